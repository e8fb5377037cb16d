// The panel indicator: follows io.lima.lima1 on the session and the system bus through
// ObjectManager and PropertiesChanged (no polling) and offers start, stop, shell and mount
// actions. Shell modules come in through `deps` so that the GNOME 43 entry point (imports.*)
// and the GNOME 45+ one (ES modules) share this file.
/* exported LimadIndicator */
'use strict';

const BUS_NAME = 'io.lima.lima1';
const MANAGER_PATH = '/io/lima/lima1';
const INSTANCE_IFACE = 'io.lima.lima1.Instance';
const TEST_PATH = '/io/lima/lima1/ExtensionTest';
const TEST_XML = `<node>
  <interface name="io.lima.lima1.ExtensionTest">
    <method name="Describe"><arg type="s" direction="out" name="json"/></method>
    <method name="OpenMenu"/>
    <method name="CloseMenu"/>
    <method name="Activate">
      <arg type="s" direction="in" name="id"/><arg type="b" direction="out" name="found"/>
    </method>
    <method name="Notifications"><arg type="as" direction="out" name="messages"/></method>
    <method name="Screenshot">
      <arg type="s" direction="in" name="path"/><arg type="b" direction="out" name="done"/>
    </method>
  </interface>
</node>`;
// Stop powers the guest off and waits (ACPI, then a kill after 90 s).
const STOP_TIMEOUT_MS = 200 * 1000;

// One bus's view of limad: an ObjectManager client that follows the name's owner, so a
// limad that restarts (or appears later) is picked up with no polling.
class LimadBus {
    constructor(deps, kind, onChange, onSignal) {
        this._deps = deps;
        this.kind = kind;
        this._onChange = onChange;
        this._onSignal = onSignal;
        this.manager = null;
        this._ids = [];
        this._cancellable = new deps.Gio.Cancellable();
        const {Gio} = deps;
        Gio.DBusObjectManagerClient.new_for_bus(
            kind === 'system' ? Gio.BusType.SYSTEM : Gio.BusType.SESSION,
            Gio.DBusObjectManagerClientFlags.DO_NOT_AUTO_START, BUS_NAME, MANAGER_PATH,
            null, this._cancellable, (_o, res) => {
                try {
                    this.manager = Gio.DBusObjectManagerClient.new_for_bus_finish(res);
                } catch (e) {
                    // No system bus (a container, a test) is not an error worth showing.
                    if (!e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                        log(`limad: no ${kind} bus: ${e.message}`);
                    return;
                }
                const m = this.manager;
                this._ids = [
                    m.connect('object-added', () => this._onChange()),
                    m.connect('object-removed', () => this._onChange()),
                    m.connect('notify::name-owner', () => this._onChange()),
                    m.connect('interface-proxy-properties-changed',
                        (_m, _obj, proxy, changed) => this._onChange(proxy, changed)),
                    m.connect('interface-proxy-signal',
                        (_m, _obj, proxy, _sender, signal, params) =>
                            this._onSignal(this, proxy, signal, params)),
                ];
                this._onChange();
            });
    }

    get running() {
        return this.manager !== null && this.manager.name_owner !== null;
    }

    instances() {
        if (!this.running)
            return [];
        const out = [];
        for (const obj of this.manager.get_objects()) {
            const proxy = obj.get_interface(INSTANCE_IFACE);
            if (proxy)
                out.push(this._deps.describe(this, proxy));
        }
        return out;
    }

    destroy() {
        this._cancellable.cancel();
        if (this.manager) {
            for (const id of this._ids)
                this.manager.disconnect(id);
        }
        this.manager = null;
    }
}

var LimadIndicator = class LimadIndicator {
    // deps: {Gio, GLib, St, Clutter, Shell, Main, PanelMenu, PopupMenu, ModalDialog, Model, _}
    constructor(deps) {
        this._deps = deps;
        const {St, PanelMenu} = deps;
        this._progress = new Map();     // "bus/name" → {fraction, message}
        this._startAsked = new Set();   // "bus/name" of starts this menu asked for
        this._lastStatus = new Map();
        this._notifications = [];
        this._rebuildId = 0;
        deps.describe = (bus, proxy) => this._describe(bus, proxy);

        this.button = new PanelMenu.Button(0.0, 'limad', false);
        const box = new St.BoxLayout({style_class: 'panel-status-menu-box'});
        this._icon = new St.Icon({icon_name: 'computer-symbolic',
            style_class: 'system-status-icon'});
        this._label = new St.Label({text: '', y_align: deps.Clutter.ActorAlign.CENTER});
        box.add_child(this._icon);
        box.add_child(this._label);
        this.button.add_child(box);
        deps.Main.panel.addToStatusArea('limad', this.button);

        const change = (proxy, changed) => this._changed(proxy, changed);
        const signal = (bus, proxy, name, params) => this._signal(bus, proxy, name, params);
        this._buses = [new LimadBus(deps, 'session', change, signal),
            new LimadBus(deps, 'system', change, signal)];
        this._items = new Map();
        this._rebuild();
        this._exportTestHook();
    }

    destroy() {
        if (this._rebuildId)
            this._deps.GLib.source_remove(this._rebuildId);
        this._rebuildId = 0;
        if (this._testExport) {
            this._testExport.unexport();
            this._testExport = null;
        }
        for (const b of this._buses)
            b.destroy();
        this._buses = [];
        this.button.destroy();
    }

    _key(bus, name) {
        return `${bus.kind}/${name}`;
    }

    _describe(bus, proxy) {
        const {Model} = this._deps;
        const get = (prop, dflt) => {
            const v = proxy.get_cached_property(prop);
            return v ? v.recursiveUnpack() : dflt;
        };
        const name = get('Name', '') ||
            Model.instanceNameFromPath(proxy.get_object_path()) || '?';
        return {
            bus, proxy, name,
            status: get('Status', ''),
            cpus: get('CPUs', 0),
            errors: get('Errors', []),
            mounts: Model.mountsFromVariant(get('Mounts', [])),
            // Forwarded ports, once limad has the property.
            ports: get('Ports', null),
        };
    }

    _changed(proxy, changed) {
        if (proxy && changed) {
            const status = changed.lookup_value('Status', null);
            if (status)
                this._statusChanged(proxy, status.unpack());
        }
        this._queueRebuild();
    }

    _statusChanged(proxy, status) {
        const {Model} = this._deps;
        const bus = this._buses.find(b => b.manager &&
            b.manager.get_object(proxy.get_object_path()) !== null) ?? this._buses[0];
        const inst = this._describe(bus, proxy);
        const key = this._key(bus, inst.name);
        if (status !== 'Starting')
            this._progress.delete(key);
        if (this._startAsked.has(key) && status !== 'Starting') {
            this._startAsked.delete(key);
            const msg = Model.startEndedMessage(inst.name, status, inst.errors);
            if (msg)
                this._notify(msg);
        }
    }

    _signal(bus, proxy, name, params) {
        if (name !== 'Progress')
            return;
        const [stage, fraction, message] = params.deepUnpack();
        const inst = this._describe(bus, proxy);
        this._progress.set(this._key(bus, inst.name), {stage, fraction, message});
        this._queueRebuild();
    }

    // Many properties change at once; rebuild the menu once per main-loop turn.
    _queueRebuild() {
        const {GLib} = this._deps;
        if (this._rebuildId)
            return;
        this._rebuildId = GLib.idle_add(GLib.PRIORITY_DEFAULT_IDLE, () => {
            this._rebuildId = 0;
            this._rebuild();
            return GLib.SOURCE_REMOVE;
        });
    }

    _allInstances() {
        const {Model} = this._deps;
        const all = [];
        for (const b of this._buses)
            all.push(...Model.sortInstances(b.instances()));
        return all;
    }

    _addItem(menu, id, text, callback, icon) {
        const {PopupMenu} = this._deps;
        const item = icon ? new PopupMenu.PopupImageMenuItem(text, icon)
            : new PopupMenu.PopupMenuItem(text);
        if (callback)
            item.connect('activate', callback);
        else
            item.setSensitive(false);
        menu.addMenuItem(item);
        this._items.set(id, {item, text, icon: icon ?? '', callback});
        return item;
    }

    _rebuild() {
        const {PopupMenu, Model, _} = this._deps;
        const menu = this.button.menu;
        const openName = this._openSubmenu;
        menu.removeAll();
        this._items = new Map();
        this._submenus = new Map();
        const instances = this._allInstances();
        const anyRunning = this._buses.some(b => b.running);
        const twoBuses = this._buses.filter(b => b.running).length > 1;

        let panel = '';
        let worst = 'computer-symbolic';
        if (!anyRunning) {
            this._addItem(menu, 'status', _('limad is not running'), null,
                'dialog-warning-symbolic');
        }
        // The user's own limad can be started from here (D-Bus activation), the system one not.
        if (!this._buses[0].running)
            this._addItem(menu, 'start-limad', _('Start limad'), () => this._startLimad());
        if (anyRunning && instances.length === 0) {
            this._addItem(menu, 'status',
                _('No instances; create one with `limactl create`'), null);
        }
        for (const inst of instances) {
            const key = this._key(inst.bus, inst.name);
            const progress = this._progress.get(key);
            let title = `${inst.name} — ${Model.stateLabel(inst.status)}`;
            if (twoBuses)
                title += ` (${Model.busLabel(inst.bus.kind)})`;
            const sub = new PopupMenu.PopupSubMenuMenuItem(title, true);
            sub.icon.icon_name = Model.stateIcon(inst.status);
            menu.addMenuItem(sub);
            this._submenus.set(key, sub);
            this._items.set(`instance:${key}`, {item: sub, text: title,
                icon: Model.stateIcon(inst.status)});
            if (inst.status === 'Broken' || inst.status === 'Degraded')
                worst = Model.stateIcon(inst.status);
            if (progress) {
                const p = Model.progressLabel(inst.name, progress.fraction, progress.message);
                this._addItem(sub.menu, `progress:${key}`, p, null, 'content-loading-symbolic');
                panel = `${inst.name} ${Math.round(progress.fraction * 100)}%`;
            }
            inst.errors.forEach((e, i) =>
                this._addItem(sub.menu, `error:${key}:${i}`, e, null, 'dialog-error-symbolic'));
            if (inst.mounts.length === 0)
                this._addItem(sub.menu, `mounts:${key}`, _('No mounts'), null);
            for (const m of inst.mounts) {
                this._addItem(sub.menu, `mount:${key}:${m.mountPoint}`, Model.mountLabel(m),
                    null,
                    m.state === 'failed' ? 'dialog-error-symbolic' : 'folder-remote-symbolic');
            }
            if (Array.isArray(inst.ports)) {
                for (const p of inst.ports)
                    this._addItem(sub.menu, `port:${key}:${p}`, Model.format(_('Port %s'), p),
                        null);
            }
            sub.menu.addMenuItem(new PopupMenu.PopupSeparatorMenuItem());
            for (const action of Model.actionsFor(inst.status))
                this._addActions(sub.menu, inst, action);
        }
        this._icon.icon_name = worst;
        this._label.text = panel;
        if (openName && this._submenus.has(openName))
            this._submenus.get(openName).setSubmenuShown(true);
    }

    _addActions(menu, inst, action) {
        const {Model, _} = this._deps;
        const key = this._key(inst.bus, inst.name);
        const id = `${action}:${key}`;
        const remember = () => {
            this._openSubmenu = key;
        };
        switch (action) {
        case 'start':
            this._addItem(menu, id, _('Start'), () => {
                remember();
                this._start(inst);
            }, 'media-playback-start-symbolic');
            break;
        case 'stop':
            this._addItem(menu, id, _('Stop'), () => {
                remember();
                this._call(inst, 'Stop', '(b)', [false], STOP_TIMEOUT_MS);
            }, 'media-playback-stop-symbolic');
            break;
        case 'shell':
            this._addItem(menu, id, _('Open a shell'), () => this._openShell(inst),
                'utilities-terminal-symbolic');
            break;
        case 'add-mount':
            this._addItem(menu, id, _('Add a mount…'), () => this._addMountDialog(inst),
                'folder-new-symbolic');
            break;
        case 'remove-mount':
            for (const m of inst.mounts) {
                this._addItem(menu, `${id}:${m.mountPoint}`,
                    Model.format(_('Remove mount %s'), m.mountPoint), () => {
                        remember();
                        this._call(inst, 'RemoveMount', '(s)', [m.mountPoint]);
                    }, 'list-remove-symbolic');
            }
            break;
        }
    }

    _notify(message) {
        const {Main, _} = this._deps;
        this._notifications.push(message);
        Main.notify(_('Lima instances'), message);
    }

    _call(inst, method, signature, args, timeout = -1, done = null) {
        const {Gio, GLib, Model} = this._deps;
        inst.proxy.call(method, new GLib.Variant(signature, args), Gio.DBusCallFlags.NONE,
            timeout, null, (proxy, res) => {
                try {
                    proxy.call_finish(res);
                    if (done)
                        done(true);
                } catch (e) {
                    this._notify(Model.limadErrorMessage(e));
                    if (done)
                        done(false);
                }
            });
    }

    _start(inst) {
        const key = this._key(inst.bus, inst.name);
        this._startAsked.add(key);
        this._progress.set(key, {stage: 'start', fraction: 0, message: ''});
        this._queueRebuild();
        this._call(inst, 'Start', '(a{sv})', [{}], -1, ok => {
            if (!ok) {
                this._startAsked.delete(key);
                this._progress.delete(key);
                this._queueRebuild();
            }
        });
    }

    _startLimad() {
        const {Gio, GLib, Model} = this._deps;
        Gio.DBus.session.call('org.freedesktop.DBus', '/org/freedesktop/DBus',
            'org.freedesktop.DBus', 'StartServiceByName', new GLib.Variant('(su)', [BUS_NAME, 0]),
            null, Gio.DBusCallFlags.NONE, -1, null, (conn, res) => {
                try {
                    conn.call_finish(res);
                } catch (e) {
                    this._notify(Model.limadErrorMessage(e));
                }
            });
    }

    _openShell(inst) {
        const {GLib, Model, _} = this._deps;
        const argv = Model.terminalArgv(inst.name, p => GLib.find_program_in_path(p) !== null,
            inst.bus.kind === 'system');
        if (!argv) {
            this._notify(Model.format(_('No terminal found; run `limactl shell %s` in one'),
                inst.name));
            return;
        }
        try {
            GLib.spawn_async(null, argv, null, GLib.SpawnFlags.SEARCH_PATH, null);
        } catch (e) {
            this._notify(e.message);
        }
    }

    _addMountDialog(inst) {
        const {ModalDialog, St, Clutter, GLib, Model, _} = this._deps;
        const dialog = new ModalDialog.ModalDialog({styleClass: 'prompt-dialog'});
        const box = new St.BoxLayout({vertical: true, style: 'spacing: 12px; padding: 12px;'});
        box.add_child(new St.Label({text: Model.format(_('Add a mount to %s'), inst.name),
            style: 'font-weight: bold;'}));
        box.add_child(new St.Label({
            text: _('Host folder, then optionally :guest mount point and :w for writable'),
        }));
        const entry = new St.Entry({hint_text: '~/src:/mnt/src:w', can_focus: true,
            x_expand: true});
        box.add_child(entry);
        dialog.contentLayout.add_child(box);
        const add = () => {
            const parsed = Model.parseMountEntry(entry.get_text(), GLib.get_home_dir());
            if (parsed.error) {
                this._notify(parsed.error);
                return;
            }
            dialog.close();
            this._openSubmenu = this._key(inst.bus, inst.name);
            this._call(inst, 'AddMount', '(ssba{sv})',
                [parsed.location, parsed.mountPoint, parsed.writable, {}], 120 * 1000);
        };
        entry.clutter_text.connect('activate', add);
        const buttons = [{label: _('Cancel'), action: () => dialog.close(),
            key: Clutter.KEY_Escape}];
        const chooser = GLib.find_program_in_path('zenity');
        if (chooser) {
            buttons.push({label: _('Choose a folder…'), action: () => {
                try {
                    const [, out] = GLib.spawn_sync(null,
                        [chooser, '--file-selection', '--directory'], null, 0, null);
                    const path = new TextDecoder().decode(out).trim();
                    if (path)
                        entry.set_text(path);
                } catch (e) {
                    this._notify(e.message);
                }
            }});
        }
        buttons.push({label: _('Add'), action: add, default: true});
        dialog.setButtons(buttons);
        dialog.open();
        global.stage.set_key_focus(entry);
        this._dialog = {dialog, entry, add};
    }

    // A D-Bus object for tests, exported only when LIMAD_EXTENSION_TEST is set: describes
    // the menu as a person sees it, activates its items, and saves a screenshot.
    _exportTestHook() {
        const {Gio, GLib, Shell} = this._deps;
        if (!GLib.getenv('LIMAD_EXTENSION_TEST'))
            return;
        const impl = {
            Describe: () => {
                const items = [];
                for (const [id, it] of this._items) {
                    items.push({id, text: it.text, icon: it.icon,
                        sensitive: it.item.reactive});
                }
                return JSON.stringify({panel: this._label.text, icon: this._icon.icon_name,
                    open: this.button.menu.isOpen, items});
            },
            OpenMenu: () => {
                this.button.menu.open(false);
                for (const sub of this._submenus.values())
                    sub.setSubmenuShown(true);
            },
            CloseMenu: () => this.button.menu.close(false),
            Activate: id => {
                if (id.startsWith('dialog:') && this._dialog) {
                    this._dialog.entry.set_text(id.slice('dialog:'.length));
                    this._dialog.add();
                    return true;
                }
                const it = this._items.get(id);
                if (!it || !it.callback)
                    return false;
                it.callback();
                return true;
            },
            Notifications: () => this._notifications,
            ScreenshotAsync: (params, invocation) => {
                const [path] = params;
                const file = Gio.File.new_for_path(path);
                const stream = file.replace(null, false, Gio.FileCreateFlags.NONE, null);
                const shooter = new Shell.Screenshot();
                shooter.screenshot(false, stream, (o, res) => {
                    try {
                        o.screenshot_finish(res);
                        stream.close(null);
                        invocation.return_value(new GLib.Variant('(b)', [true]));
                    } catch (e) {
                        invocation.return_gerror(e);
                    }
                });
            },
        };
        this._testExport = Gio.DBusExportedObject.wrapJSObject(TEST_XML, impl);
        this._testExport.export(Gio.DBus.session, TEST_PATH);
    }
};
