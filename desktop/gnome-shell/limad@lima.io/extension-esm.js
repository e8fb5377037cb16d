// GNOME Shell 45+ entry point (ES modules); installed as extension.js with the
// -Dgnome_shell_extension=esm build. Only parse-checked on this Debian 12 (GNOME 43) host.
import Clutter from 'gi://Clutter';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Shell from 'gi://Shell';
import St from 'gi://St';
import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as ModalDialog from 'resource:///org/gnome/shell/ui/modalDialog.js';
import * as PanelMenu from 'resource:///org/gnome/shell/ui/panelMenu.js';
import * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';
import {Extension, gettext as _} from 'resource:///org/gnome/shell/extensions/extension.js';

import * as Model from './model.js';
import {LimadIndicator} from './indicator.js';

export default class LimadExtension extends Extension {
    enable() {
        Model.setGettext(_);
        this._indicator = new LimadIndicator({
            Clutter, Gio, GLib, Shell, St, Main, ModalDialog, PanelMenu, PopupMenu, Model, _,
        });
    }

    disable() {
        this._indicator?.destroy();
        this._indicator = null;
    }
}
