// The logic of the limad panel indicator, with no Shell import: what each instance row,
// mount row and action reads, what a limad error says, which terminal runs `limactl shell`.
// Loaded by extension.js (GNOME 43: imports.*; GNOME 45+: the same text with `export`
// appended at build time) and by the gjs unit tests (tests/desktop/test-model.js).
/* exported setGettext, STATES, stateIcon, stateLabel, isBusyState, actionsFor,
   mountLabel, mountsFromVariant, progressLabel, limadErrorMessage, terminalArgv,
   parseMountEntry, sortInstances, format, busLabel, instanceNameFromPath, startEndedMessage */
'use strict';

var _gettext = s => s;

// The extension hands its gettext here so every label below is translated (domain limad).
function setGettext(fn) {
    _gettext = fn;
}

function _(s) {
    return _gettext(s);
}

// printf-style %s/%d (in order) and %%, the form gettext catalogues check.
function format(fmt, ...args) {
    let i = 0;
    return fmt.replace(/%([sd%])/g, (_m, c) => (c === '%' ? '%' : String(args[i++])));
}

// Lima's states, as limad's Status property spells them.
var STATES = ['Stopped', 'Starting', 'Running', 'Degraded', 'Stopping', 'Broken'];

const STATE_ICONS = {
    Stopped: 'media-playback-stop-symbolic',
    Starting: 'content-loading-symbolic',
    Running: 'media-playback-start-symbolic',
    Degraded: 'dialog-warning-symbolic',
    Stopping: 'content-loading-symbolic',
    Broken: 'dialog-error-symbolic',
};

function stateIcon(status) {
    return STATE_ICONS[status] ?? 'dialog-question-symbolic';
}

function stateLabel(status) {
    switch (status) {
    case 'Stopped': return _('Stopped');
    case 'Starting': return _('Starting');
    case 'Running': return _('Running');
    case 'Degraded': return _('Degraded');
    case 'Stopping': return _('Stopping');
    case 'Broken': return _('Broken');
    default: return status || _('Unknown');
    }
}

function isBusyState(status) {
    return status === 'Starting' || status === 'Stopping';
}

// The actions the menu offers for an instance in this state, in menu order. limad refuses
// the others anyway (AlreadyRunning, NotRunning, Busy); not offering them saves a round trip.
function actionsFor(status) {
    switch (status) {
    case 'Stopped':
    case 'Broken':
        return ['start', 'add-mount', 'remove-mount'];
    case 'Running':
    case 'Degraded':
        return ['stop', 'shell', 'add-mount', 'remove-mount'];
    case 'Starting':
        return ['stop'];
    default:
        return [];
    }
}

// Mounts is a(sssbsa{sv}): location, mountPoint, type, writable, state, options (tag, error).
function mountsFromVariant(value) {
    if (!value)
        return [];
    return value.map(m => {
        const [location, mountPoint, type, writable, state, options] = m;
        const opts = options ?? {};
        const unpack = v => (v && typeof v.unpack === 'function' ? v.unpack() : v);
        return {
            location, mountPoint, type, writable, state,
            tag: unpack(opts.tag) ?? '',
            error: unpack(opts.error) ?? '',
        };
    });
}

function mountStateLabel(state) {
    switch (state) {
    case 'pending': return _('pending');
    case 'mounted': return _('mounted');
    case 'failed': return _('failed');
    default: return state;
    }
}

// "~/src → /mnt/src (9p, writable): mounted", and the error after a failed one.
function mountLabel(m) {
    const access = m.writable ? _('writable') : _('read-only');
    let text = `${m.location} → ${m.mountPoint} (${m.type}, ${access}): ` +
        `${mountStateLabel(m.state)}`;
    if (m.state === 'failed' && m.error)
        text += ` — ${m.error}`;
    return text;
}

function progressLabel(name, fraction, message) {
    const pct = Math.max(0, Math.min(100, Math.round((fraction || 0) * 100)));
    return format(_('Starting %s: %d%%'), name, pct) +
        (message ? ` — ${message}` : '');
}

// A GLib.Error from a D-Bus call → the message limad wrote for people. GDBus prefixes it
// with "GDBus.Error:io.lima.lima1.Error.Busy: "; the person wants only limad's sentence.
function limadErrorMessage(error) {
    let msg = error?.message ?? String(error);
    const m = /^GDBus\.Error:[\w.]+:\s*/.exec(msg);
    if (m)
        msg = msg.slice(m[0].length);
    if (/ServiceUnknown|NameHasNoOwner/.test(error?.message ?? ''))
        return _('limad is not running; start it with `limad --user &`');
    return msg;
}

// What to say when a start we asked for ended without the instance running.
function startEndedMessage(name, status, errors) {
    if (status === 'Running')
        return null;
    if (status === 'Broken' || status === 'Stopped') {
        const why = (errors ?? []).join('; ');
        return why ? format(_('%s did not start: %s'), name, why)
            : format(_('%s did not start'), name);
    }
    return null;
}

// A terminal running `limactl shell NAME`: the first of these that is installed.
// `have` answers whether a program is on PATH (GLib.find_program_in_path in the extension).
function terminalArgv(name, have, system) {
    const shell = system ? ['limactl', '--system', 'shell', name] : ['limactl', 'shell', name];
    const terminals = [
        ['kgx', ['kgx', '--']],
        ['gnome-terminal', ['gnome-terminal', '--']],
        ['ptyxis', ['ptyxis', '--']],
        ['konsole', ['konsole', '-e']],
        ['xfce4-terminal', ['xfce4-terminal', '-x']],
        ['x-terminal-emulator', ['x-terminal-emulator', '-e']],
        ['xterm', ['xterm', '-e']],
    ];
    for (const [prog, argv] of terminals) {
        if (have(prog))
            return argv.concat(shell);
    }
    return null;
}

// The add-mount entry: "LOCATION[:MOUNTPOINT][:w|:ro]", as `limactl mount add` reads a mount.
// Returns {location, mountPoint, writable} or {error}.
function parseMountEntry(text, home) {
    let t = (text ?? '').trim();
    if (t === '')
        return {error: _('Type a host folder, e.g. ~/src or ~/src:/mnt/src:w')};
    let writable = false;
    const suffix = /:(w|rw|ro)$/.exec(t);
    if (suffix) {
        writable = suffix[1] !== 'ro';
        t = t.slice(0, -suffix[0].length);
    }
    let location = t, mountPoint = '';
    const colon = t.indexOf(':');
    if (colon >= 0) {
        location = t.slice(0, colon);
        mountPoint = t.slice(colon + 1);
    }
    if (home && (location === '~' || location.startsWith('~/')))
        location = home + location.slice(1);
    if (!location.startsWith('/'))
        return {error: _('The host folder must be an absolute path or start with ~')};
    if (mountPoint !== '' && !mountPoint.startsWith('/'))
        return {error: _('The mount point must be an absolute path in the guest')};
    return {location, mountPoint, writable};
}

function sortInstances(list) {
    return [...list].sort((a, b) => a.name.localeCompare(b.name));
}

function busLabel(bus) {
    return bus === 'system' ? _('system') : _('session');
}

// /io/lima/lima1/instance/NAME, NAME encoded as sd_bus_path_encode does (_XX for a byte).
function instanceNameFromPath(path) {
    const prefix = '/io/lima/lima1/instance/';
    if (!path.startsWith(prefix))
        return null;
    const enc = path.slice(prefix.length);
    if (enc === '_')
        return '';
    return enc.replace(/_([0-9a-f]{2})/g, (_m, hex) => String.fromCharCode(parseInt(hex, 16)));
}
