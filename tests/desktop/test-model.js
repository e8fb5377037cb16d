// gjs unit tests of the extension's logic (desktop/gnome-shell/limad@lima.io/model.js),
// loaded the way GNOME 43 loads it. Prints TAP.
//   gjs -I EXTENSION_DIR tests/desktop/test-model.js
'use strict';
const Model = imports.model;

let n = 0, failed = 0;
function check(name, cond, detail = '') {
    n++;
    if (!cond)
        failed++;
    print(`${cond ? 'ok' : 'not ok'} ${n} - ${name}${cond ? '' : `: ${detail}`}`);
}
function eq(name, got, want) {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    check(name, g === w, `got ${g}, want ${w}`);
}

// States and actions
for (const s of Model.STATES)
    check(`${s} has an icon of its own kind`, Model.stateIcon(s).endsWith('-symbolic'));
check('an unknown state gets the question icon',
    Model.stateIcon('Weird') === 'dialog-question-symbolic');
check('Broken and Running look different', Model.stateIcon('Broken') !== Model.stateIcon('Running'));
eq('a stopped instance can be started and its mounts changed', Model.actionsFor('Stopped'),
    ['start', 'add-mount', 'remove-mount']);
eq('a broken instance can be started again', Model.actionsFor('Broken')[0], 'start');
eq('a running instance can be stopped and shelled into', Model.actionsFor('Running'),
    ['stop', 'shell', 'add-mount', 'remove-mount']);
eq('a starting instance can only be stopped', Model.actionsFor('Starting'), ['stop']);
eq('nothing while it stops', Model.actionsFor('Stopping'), []);

// Mounts as limad sends them: a(sssbsa{sv}), unpacked
const mounts = Model.mountsFromVariant([
    ['/home/u/src', '/mnt/src', '9p', true, 'mounted', {tag: 'lima-0123'}],
    ['/srv/data', '/data', 'virtiofs', false, 'failed',
        {tag: 'lima-4567', error: 'virtiofsd: Operation not permitted'}],
]);
eq('mounts are read field by field', mounts[0],
    {location: '/home/u/src', mountPoint: '/mnt/src', type: '9p', writable: true,
        state: 'mounted', tag: 'lima-0123', error: ''});
eq('a mounted mount reads as such', Model.mountLabel(mounts[0]),
    '/home/u/src → /mnt/src (9p, writable): mounted');
eq('a failed mount shows its error', Model.mountLabel(mounts[1]),
    '/srv/data → /data (virtiofs, read-only): failed — virtiofsd: Operation not permitted');
eq('variant options are unpacked', Model.mountsFromVariant([
    ['/a', '/b', '9p', false, 'pending', {tag: {unpack: () => 'lima-x'}}]])[0].tag, 'lima-x');
eq('no Mounts property, no mounts', Model.mountsFromVariant(null), []);

// Progress and errors
eq('progress shows the percentage and limad\'s message',
    Model.progressLabel('dev', 0.42, 'booting the guest'), 'Starting dev: 42% — booting the guest');
eq('progress is clamped', Model.progressLabel('dev', 7, ''), 'Starting dev: 100%');
eq('a limad error keeps only limad\'s sentence', Model.limadErrorMessage({
    message: 'GDBus.Error:io.lima.lima1.Error.NotRunning: instance "dev" is not running'}),
'instance "dev" is not running');
check('a missing limad says how to start it', Model.limadErrorMessage({
    message: 'GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: no'}).includes('limad --user'));
eq('a failed start names the errors', Model.startEndedMessage('dev', 'Broken',
    ['image missing', 'see ha.stderr.log']), 'dev did not start: image missing; see ha.stderr.log');
eq('a start that ran says nothing', Model.startEndedMessage('dev', 'Running', []), null);

// The terminal for `limactl shell`
const have = list => p => list.includes(p);
eq('GNOME Console first', Model.terminalArgv('dev', have(['kgx', 'xterm'])),
    ['kgx', '--', 'limactl', 'shell', 'dev']);
eq('then gnome-terminal', Model.terminalArgv('dev', have(['gnome-terminal'])),
    ['gnome-terminal', '--', 'limactl', 'shell', 'dev']);
eq('xterm takes -e', Model.terminalArgv('a b', have(['xterm'])),
    ['xterm', '-e', 'limactl', 'shell', 'a b']);
eq('a system instance goes through limactl --system',
    Model.terminalArgv('dev', have(['kgx']), true), ['kgx', '--', 'limactl', '--system', 'shell', 'dev']);
eq('no terminal, no argv', Model.terminalArgv('dev', have([])), null);

// The add-mount entry
eq('a bare folder is read-only at the same path', Model.parseMountEntry('/srv/x', '/home/u'),
    {location: '/srv/x', mountPoint: '', writable: false});
eq('~ expands, :w makes it writable', Model.parseMountEntry(' ~/src:/mnt/src:w ', '/home/u'),
    {location: '/home/u/src', mountPoint: '/mnt/src', writable: true});
eq(':ro is read-only', Model.parseMountEntry('/a:/b:ro', '/h').writable, false);
check('an empty entry is refused with an example', Model.parseMountEntry('  ', '/h').error
    .includes('~/src'));
check('a relative folder is refused', 'error' in Model.parseMountEntry('src', '/h'));
check('a relative mount point is refused', 'error' in Model.parseMountEntry('/a:mnt', '/h'));

// Names and ordering
eq('instances sort by name', Model.sortInstances([{name: 'b'}, {name: 'a'}]).map(i => i.name),
    ['a', 'b']);
eq('object paths decode as sd_bus_path_encode wrote them',
    Model.instanceNameFromPath('/io/lima/lima1/instance/my_2ddev'), 'my-dev');
eq('other paths are not instances', Model.instanceNameFromPath('/io/lima/lima1'), null);

// Translation goes through the gettext the extension hands over
Model.setGettext(s => s === 'Running' ? 'Läuft' : s);
eq('labels are translated', Model.stateLabel('Running'), 'Läuft');
Model.setGettext(s => s);

print(`1..${n}`);
if (failed > 0)
    imports.system.exit(1);
