// GNOME Shell 43–44 entry point (imports.*). The GNOME 45+ one is extension-esm.js; both
// hand the Shell's modules to indicator.js, which holds the indicator itself.
/* exported init */
'use strict';

const {Clutter, Gio, GLib, Shell, St} = imports.gi;
const Main = imports.ui.main;
const ModalDialog = imports.ui.modalDialog;
const PanelMenu = imports.ui.panelMenu;
const PopupMenu = imports.ui.popupMenu;
const ExtensionUtils = imports.misc.extensionUtils;
const Me = ExtensionUtils.getCurrentExtension();
const Model = Me.imports.model;
const {LimadIndicator} = Me.imports.indicator;

class LimadExtension {
    enable() {
        ExtensionUtils.initTranslations();
        const _ = imports.gettext.domain(Me.metadata['gettext-domain']).gettext;
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

function init() {
    return new LimadExtension();
}
