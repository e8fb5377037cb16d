# German translations, msgid → msgstr, applied by po/tools/fill-po.py. Kept as a table so
# the catalogue can be regenerated from the POT; po/de.po is the file gettext uses.
T = {
"start it with `sudo limad --system &` (or `sudo systemctl start limad`)":
"starten Sie ihn mit `sudo limad --system &` (oder `sudo systemctl start limad`)",
"start it with `limad --user &`": "starten Sie ihn mit `limad --user &`",
"cannot connect to limad at %s: %s; start it with `systemctl --user start limad.socket` or `limad --user &`":
"keine Verbindung zu limad unter %s: %s; starten Sie ihn mit `systemctl --user start limad.socket` oder `limad --user &`",
"cannot connect to the system bus: %s; is dbus-daemon running?":
"keine Verbindung zum Systembus: %s; läuft dbus-daemon?",
"no session bus: run `dbus-run-session -- bash` or set DBUS_SESSION_BUS_ADDRESS":
"kein Sitzungsbus: führen Sie `dbus-run-session -- bash` aus oder setzen Sie DBUS_SESSION_BUS_ADDRESS",
"cannot connect to the session bus at %s: %s; run `dbus-run-session -- bash` or fix DBUS_SESSION_BUS_ADDRESS":
"keine Verbindung zum Sitzungsbus unter %s: %s; führen Sie `dbus-run-session -- bash` aus oder korrigieren Sie DBUS_SESSION_BUS_ADDRESS",
"lost the connection to the bus: %s": "Verbindung zum Bus verloren: %s",
"limad did not answer in time; see its log (journalctl --user -u limad, or its stderr)":
"limad hat nicht rechtzeitig geantwortet; siehe sein Protokoll (journalctl --user -u limad oder seine Standardfehlerausgabe)",
"D-Bus call failed: %s": "D-Bus-Aufruf fehlgeschlagen: %s",
"limad is not running on the %s bus and D-Bus cannot start it; %s":
"limad läuft nicht auf dem %s und D-Bus kann ihn nicht starten; %s",
"system": "Systembus",
"session": "Sitzungsbus",
"limad is not running and D-Bus could not start it (%s); %s":
"limad läuft nicht und D-Bus konnte ihn nicht starten (%s); %s",
"permission denied: %s": "Zugriff verweigert: %s",
"limad does not support this request (%s); is limad older than limactl?":
"limad unterstützt diese Anfrage nicht (%s); ist limad älter als limactl?",
"the instance no longer exists": "die Instanz existiert nicht mehr",
"limad sent a malformed GetInstance reply: %s": "limad hat eine fehlerhafte GetInstance-Antwort gesendet: %s",
"writable": "beschreibbar",
"read-only": "schreibgeschützt",
"DIR": "VERZ",
"Create an instance from a template or a lima.yaml": "Eine Instanz aus einer Vorlage oder einer lima.yaml erstellen",
"Start an instance and wait until it is running": "Eine Instanz starten und warten, bis sie läuft",
"Stop an instance": "Eine Instanz anhalten",
"Delete instances and their disks": "Instanzen und ihre Festplatten löschen",
"Change a stopped instance's lima.yaml (editor or flags)":
"Die lima.yaml einer gestoppten Instanz ändern (Editor oder Optionen)",
"List instances (--json, --format, -q)": "Instanzen auflisten (--json, --format, -q)",
"Show everything about an instance, mounts included": "Alles über eine Instanz anzeigen, Einhängungen eingeschlossen",
"Run a shell or a command in an instance": "Eine Shell oder einen Befehl in einer Instanz ausführen",
"Add, remove or list the mounts of an instance, also while it runs":
"Einhängungen einer Instanz hinzufügen, entfernen oder auflisten, auch während sie läuft",
"Check lima.yaml files; --fill prints them complete":
"lima.yaml-Dateien prüfen; --fill gibt sie vollständig aus",
"Usage: limactl [--system] COMMAND [OPTIONS…]\n\nCommands:\n":
"Aufruf: limactl [--system] BEFEHL [OPTIONEN…]\n\nBefehle:\n",
"Not yet available in this build (limad does not offer them yet):\n ":
"In diesem Build noch nicht verfügbar (limad bietet sie noch nicht an):\n ",
"Global options (before COMMAND):\n  --system   Talk to the system-wide limad (instances under /var/lib/lima)\n  --user     Talk to your own limad on the session bus (the default)":
"Globale Optionen (vor BEFEHL):\n  --system   Mit dem systemweiten limad sprechen (Instanzen unter /var/lib/lima)\n  --user     Mit Ihrem eigenen limad auf dem Sitzungsbus sprechen (Standard)",
"Every command but validate is a client of limad (D-Bus name io.lima.lima1),\nstarted on demand by D-Bus activation or by hand with `limad --user &`.\nRun `limactl COMMAND --help` for the options of a command.":
"Jeder Befehl außer validate ist ein Client von limad (D-Bus-Name io.lima.lima1),\nder bei Bedarf durch D-Bus-Aktivierung oder von Hand mit `limad --user &` startet.\n`limactl BEFEHL --help` zeigt die Optionen eines Befehls.",
"\"%s\" is not available in this build yet: limad does not offer it":
"„%s“ ist in diesem Build noch nicht verfügbar: limad bietet es nicht an",
"unknown command \"%s\"; see `limactl --help`": "unbekannter Befehl „%s“; siehe `limactl --help`",
"--state-dir goes with --system; --user uses $LIMA_HOME":
"--state-dir gehört zu --system; --user verwendet $LIMA_HOME",
"cannot take the sockets passed in LISTEN_FDS: %s":
"die in LISTEN_FDS übergebenen Sockets können nicht übernommen werden: %s",
"limad takes one listening AF_UNIX stream socket, was handed %d file descriptors; check limad.socket (ListenStream=, Accept=no)":
"limad nimmt genau einen lauschenden AF_UNIX-Stream-Socket, erhielt aber %d Dateideskriptoren; prüfen Sie limad.socket (ListenStream=, Accept=no)",
"Serve the session bus; instances live in $LIMA_HOME (default ~/.lima)":
"Den Sitzungsbus bedienen; Instanzen liegen in $LIMA_HOME (Standard ~/.lima)",
"Serve the system bus for every user; instances live in /var/lib/lima, polkit decides who may act on whose":
"Den Systembus für alle Benutzer bedienen; Instanzen liegen in /var/lib/lima, polkit entscheidet, wer auf wessen Instanzen zugreifen darf",
"With --system: keep instances in DIR instead of ":
"Mit --system: Instanzen in VERZ statt in ",
"Log every state change": "Jeden Zustandswechsel protokollieren",
"Print the version": "Die Version ausgeben",
"The limad instance manager: serves the io.lima.lima1 D-Bus API that limactl uses, starts and stops instances through their host agents, and re-adopts running instances when it restarts.":
"Der Instanzverwalter limad: stellt die D-Bus-Schnittstelle io.lima.lima1 bereit, die limactl nutzt, startet und stoppt Instanzen über ihre Host-Agenten und übernimmt laufende Instanzen nach einem Neustart wieder.",
"say which bus to serve: --user or --system": "geben Sie an, welcher Bus bedient werden soll: --user oder --system",
"--system runs as root (it starts instances as their owners); use --user for your own instances":
"--system läuft als root (es startet Instanzen als ihre Besitzer); verwenden Sie --user für Ihre eigenen Instanzen",
"--system serves the system bus only, where its bus policy and polkit apply; it takes no socket":
"--system bedient nur den Systembus, wo seine Bus-Richtlinie und polkit gelten; es nimmt keinen Socket",
"cannot own the bus name": "der Busname kann nicht belegt werden",
"another limad already serves it": "ein anderer limad bedient ihn bereits",
"limad is not running": "limad läuft nicht",
"Start limad": "limad starten",
"No instances; create one with `limactl create`": "Keine Instanzen; erstellen Sie eine mit `limactl create`",
"No mounts": "Keine Einhängungen",
"Port %s": "Port %s",
"Start": "Starten",
"Stop": "Anhalten",
"Open a shell": "Shell öffnen",
"Add a mount…": "Einhängung hinzufügen …",
"Remove mount %s": "Einhängung %s entfernen",
"Lima instances": "Lima-Instanzen",
"No terminal found; run `limactl shell %s` in one": "Kein Terminal gefunden; führen Sie `limactl shell %s` in einem aus",
"Add a mount to %s": "Einhängung zu %s hinzufügen",
"Host folder, then optionally :guest mount point and :w for writable":
"Host-Ordner, dann optional :Einhängepunkt im Gast und :w für beschreibbar",
"Cancel": "Abbrechen",
"Choose a folder…": "Ordner wählen …",
"Add": "Hinzufügen",
"Stopped": "Gestoppt",
"Starting": "Startet",
"Running": "Läuft",
"Degraded": "Beeinträchtigt",
"Stopping": "Hält an",
"Broken": "Defekt",
"Unknown": "Unbekannt",
"pending": "ausstehend",
"mounted": "eingehängt",
"failed": "fehlgeschlagen",
"Starting %s: %d%%": "%s startet: %d %%",
"limad is not running; start it with `limad --user &`": "limad läuft nicht; starten Sie ihn mit `limad --user &`",
"%s did not start: %s": "%s ist nicht gestartet: %s",
"%s did not start": "%s ist nicht gestartet",
"Type a host folder, e.g. ~/src or ~/src:/mnt/src:w": "Geben Sie einen Host-Ordner ein, z. B. ~/src oder ~/src:/mnt/src:w",
"The host folder must be an absolute path or start with ~": "Der Host-Ordner muss ein absoluter Pfad sein oder mit ~ beginnen",
"The mount point must be an absolute path in the guest": "Der Einhängepunkt muss ein absoluter Pfad im Gast sein",
"location \"%s\" is not an existing directory on the host; create it first":
"Ort „%s“ ist kein vorhandenes Verzeichnis auf dem Host; legen Sie es zuerst an",
"image file %s does not exist; check the image location in the config":
"Abbilddatei %s existiert nicht; prüfen Sie den Abbildort in der Konfiguration",
}
