#compdef warden

__warden_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__warden_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __warden_complete "${completions[@]:0:-1}"
    fi
}

__warden_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_warden() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'demo:A live demo: a hub, four MCP servers behind warden wrap, an agent with attacks, and the console on it.'
            'install:Put warden wrap in front of the MCP servers in your clients'\'' configs: stdio commands, and Streamable HTTP urls through wrap --connect (backup, diff, idempotent).'
            'uninstall:Take warden wrap out of your clients'\'' configs (restores the backup byte for byte when the file is unchanged since install).'
            'wrap:Run an MCP server behind Warden'\''s enforcing relay (use in place of the server'\''s command).'
            'gateway:Serve an MCP server over Streamable HTTP, each session behind its own enforcing relay.'
            'hub:Run the hub (control plane) in the foreground.'
            'console:The operator console: live sessions, pending grants, flagged tools, alerts, playbooks, audit.'
            'alerts:Alerts raised from the event stream: list and triage them.'
            'incidents:Incidents: alerts escalated together, with their playbook runs.'
            'playbooks:Incident-response playbooks (CACAO 2.0): list, import, export, start and walk them.'
            'respond:Run one response action now: revoke-grants, terminate-session, quarantine-tool, block-server, …'
            'scan:Analyse MCP tool definitions: from a file, from client configs, or from a server command.'
            'registry:Sign tool definitions and verify them against a registry.'
            'sessions:MCP sessions seen through warden wrap.'
            'grants:List, approve, deny and revoke just-in-time grants.'
            'tools:Tool definitions, their analysis and review.'
            'baselines:Behaviour baselines the hub learnt per tool; reset one when its normal use really changed.'
            'events:The event stream.'
            'audit:The tamper-evident audit log.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        demo|install|uninstall|wrap|gateway|hub|console|alerts|incidents|playbooks|respond|scan|registry|sessions|grants|tools|baselines|events|audit|help)
            "_warden_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_demo() {
    local -i ret=1
    local -ar arg_specs=(
        '--headless[Narrate the run as text with a scripted operator instead of opening the console (for CI and terminals without a UI).]'
        '--keep[Keep the demo'\''s state directory (printed at the start).]'
        '--home[Use this directory for the demo'\''s state (implies nothing else; combine with --keep to inspect it).]:home:'
        '--pace[Seconds between the agent'\''s calls.]:pace:'
        '--theme[Console theme.]:theme:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_install() {
    local -i ret=1
    local -ar arg_specs=(
        '--client[claude-desktop, cursor, vscode, claude-code or all.]:client:'
        '*--config[A config file to change instead of looking for the clients'\'' (repeatable).]:config:'
        '--project[Project directory for project-level files (.mcp.json, .cursor/mcp.json, .vscode/mcp.json).]:project:'
        '--dry-run[Show what would change; change nothing.]'
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--warden[The warden binary the configs should run (default\: this one).]:warden:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_uninstall() {
    local -i ret=1
    local -ar arg_specs=(
        '--client[claude-desktop, cursor, vscode, claude-code or all.]:client:'
        '*--config[A config file to change instead of looking for the clients'\'' (repeatable).]:config:'
        '--project[Project directory for project-level files (.mcp.json, .cursor/mcp.json, .vscode/mcp.json).]:project:'
        '--dry-run[Show what would change; change nothing.]'
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_wrap() {
    local -i ret=1
    local -ar arg_specs=(
        '--name[The server'\''s name in policy, events and the console (default\: the command'\''s name).]:name:'
        '--policy[Policy file (YAML).]:policy:'
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--connect[Connect to a server that is already running instead of starting one\: http(s)\://HOST\:PORT/PATH (Streamable HTTP), unix\:PATH or tcp\:HOST\:PORT (newline-delimited JSON-RPC).]:connect:'
        '--header-file[Headers for an HTTP server, one `Name\: value` per line, `${VAR}` read from the environment (authorisation; never on the command line). WARDEN_CONNECT_HEADERS may hold the same.]:header-file:'
        '*:command:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_gateway() {
    local -i ret=1
    local -ar arg_specs=(
        '--listen[Where to listen, HOST\:PORT (port 0\: any free one, printed). Loopback unless --allow-remote.]:listen:'
        '--name[The server'\''s name in policy, events and the console.]:name:'
        '--upstream[An MCP server to reach over HTTP (http(s)\://…), unix\:PATH or tcp\:HOST\:PORT, instead of a command after --.]:upstream:'
        '--header-file[Headers for the upstream HTTP server, one `Name\: value` per line (see warden wrap).]:header-file:'
        '--policy[Policy file (YAML).]:policy:'
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--token-file[The bearer token'\''s file (default\: $WARDEN_HOME/gateway/NAME.token; made if missing).]:token-file:'
        '--no-auth[Serve without a bearer token (loopback only).]'
        '*--allow-origin[Also accept requests carrying this Origin (repeatable), e.g. http\://localhost\:6274.]:allow-origin:'
        '--allow-remote[Allow a bind outside loopback (the token is then required, and Host is not checked).]'
        '--path[The MCP endpoint'\''s path.]:path:'
        '--max-sessions[Sessions served at once.]:max-sessions:'
        '--idle-minutes[Minutes after which a session with no message either way and no open stream is ended.]:idle-minutes:'
        '*:command:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_hub() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_console() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--theme[Theme\: default, high-contrast, solarized-dark, mono, or a file in $XDG_CONFIG_HOME/warden/themes/NAME.yaml (default\: console.theme in config.yaml).]:theme:'
        '--mouse[Take mouse clicks and the scroll wheel.]'
        '--view[The view to open on\: sessions, grants, tools, alerts, playbooks, audit.]:view:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_alerts() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:Alerts, most recent first.'
            'show:One alert: its facts, notes and the events that raised it.'
            'ack:Acknowledge a new alert.'
            'assign:Assign an alert to someone.'
            'resolve:Mark an alert resolved.'
            'false-positive:Close an alert as a false positive (reason required).'
            'note:Add a note to an alert.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show|ack|assign|resolve|false-positive|note)
            "_warden_alerts_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_alerts_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--open[Only alerts still open (new, acknowledged, in progress).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_alerts_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_alerts_ack() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_alerts_assign() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--to[Who handles it.]:to:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_alerts_resolve() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--reason[How it was resolved.]:reason:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_alerts_false-positive() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--reason[Why it is not a problem.]:reason:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_alerts_note() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--text[The note.]:text:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_incidents() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:Incidents, newest first, with their playbook runs.'
            'show:An incident, its alerts and its playbook runs.'
            'open:Escalate alerts to a new incident.'
            'close:Close an incident (its open alerts are resolved).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show|open|close)
            "_warden_incidents_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_incidents_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_incidents_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_incidents_open() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '*--alert[An alert to include (repeat for several).]:alert:'
        '--title[A title (default\: the first alert'\''s).]:title:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_incidents_close() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--resolution[The resolution.]:resolution:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_playbooks() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:Built-in and imported playbooks.'
            'show:A playbook'\''s steps.'
            'import:Import a CACAO 2.0 playbook (JSON).'
            'export:Print a playbook as CACAO 2.0 JSON.'
            'start:Start a playbook for an incident.'
            'step:Act on a run'\''s current step: --done, --skip --reason, --run (its Warden actions), or --note alone.'
            'run:A run'\''s steps and where it stands.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show|import|export|start|step|run)
            "_warden_playbooks_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_playbooks_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_playbooks_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_playbooks_import() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':file:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_playbooks_export() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_playbooks_start() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--incident[The incident it is for.]:incident:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_playbooks_step() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':run-id:'
        '--done[The operator did it.]'
        '--skip[Skip it (needs --reason).]'
        '--run[Run its automated Warden actions.]'
        '--reason[Why it is skipped.]:reason:'
        '--note[A note (alone\: adds a note without moving on).]:note:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_playbooks_run() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':run-id:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_respond() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':action:'
        '*:args:'
        '--reason[Why (required; recorded in the audit log).]:reason:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_scan() {
    local -i ret=1
    local -ar arg_specs=(
        '--tools[A tools/list result or a JSON array of tool definitions.]:tools:'
        '--config[An MCP client config (Claude Desktop, Cursor, VS Code mcp.json, Claude Code .mcp.json).]:config:'
        '--format[text, json or sarif.]:format:'
        '--fail-on[Lowest verdict that fails the scan\: suspicious or malicious.]:fail-on:'
        '--timeout[Seconds to wait for each server'\''s tools/list.]:timeout:'
        '--policy[Policy file whose analysis thresholds and suppressions apply.]:policy:'
        '--connect[A running server to scan\: http(s)\://HOST\:PORT/PATH, unix\:PATH or tcp\:HOST\:PORT.]:connect:'
        '--header-file[Headers for --connect, one `Name\: value` per line (WARDEN_CONNECT_HEADERS may hold the same).]:header-file:'
        '*:command:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_registry() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'keygen:Create a signing key: KEY (private, mode 0600) and KEY.pub.'
            'sign:Sign a server'\''s tool definitions into a registry file (created or updated).'
            'verify:Check every signature; with --tools, check those definitions are signed unchanged. Exit 1 on any failure.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        keygen|sign|verify)
            "_warden_registry_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_registry_keygen() {
    local -i ret=1
    local -ar arg_specs=(
        '--out[Where to write the private key.]:out:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_registry_sign() {
    local -i ret=1
    local -ar arg_specs=(
        '--key[The private key file.]:key:'
        '--server[The server'\''s name (as in warden wrap --name).]:server:'
        '--tools[A tools/list result or an array of tool definitions.]:tools:'
        '--registry[The registry file.]:registry:'
        '*:command:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_registry_verify() {
    local -i ret=1
    local -ar arg_specs=(
        '--registry[The registry file.]:registry:'
        '--public-key[Only trust this public key (base64).]:public-key:'
        '--tools[Definitions to check (needs --server).]:tools:'
        '--server[The server the definitions belong to.]:server:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_sessions() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:List sessions, live first.'
            'show:A session and its event timeline.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show)
            "_warden_sessions_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_sessions_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--live[Only live sessions.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_sessions_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_grants() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:List grants, pending first.'
            'show:Show a grant and its history.'
            'approve:Approve a pending request; the held call goes through.'
            'deny:Deny a pending request; the client is told why.'
            'revoke:End an active grant now.'
            'stats:Exposure window of JIT grants against standing access.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show|approve|deny|revoke|stats)
            "_warden_grants_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_grants_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--state[Only these states (comma-separated)\: pending, active, approved, denied, expired, cancelled, revoked.]:state:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_grants_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_grants_approve() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--scope[call (this call'\''s arguments only), session (this tool in this session) or server (this tool, any session).]:scope:'
        '--ttl[How long the grant lasts, e.g. 15m (capped by the policy rule'\''s max_ttl).]:ttl:'
        '--reason[Why (recorded in the audit log).]:reason:'
        '--as[Your name in the audit log (default\: your user name).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_grants_deny() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--reason[Why (required; the client and the audit log see it).]:reason:'
        '--as[Your name in the audit log (default\: your user name).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_grants_revoke() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':id:'
        '--reason[Why (recorded in the audit log).]:reason:'
        '--as[Your name in the audit log (default\: your user name).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_grants_stats() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_tools() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:List tools, flagged first.'
            'show:A tool'\''s definition and findings (evidence escaped).'
            'approve:Trust the tool'\''s current definition (pin it); it is shown to clients again.'
            'quarantine:Hide the tool from clients and refuse its calls.'
            'suppress:Switch one analysis rule off for one tool (recorded with your reason; relays re-judge the tool).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show|approve|quarantine|suppress)
            "_warden_tools_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_tools_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--flagged[Only flagged, quarantined or changed tools.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_tools_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_tools_approve() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--reason[Why (recorded in the audit log; shown to clients for a quarantine).]:reason:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_tools_quarantine() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--reason[Why (recorded in the audit log; shown to clients for a quarantine).]:reason:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_tools_suppress() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--rule[The rule id, as `warden tools show` lists it.]:rule:'
        '--reason[Why (required; recorded in the audit log).]:reason:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_baselines() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:List baselines: calls seen, argument keys, destinations, working directories.'
            'reset:Forget a tool'\''s baseline (or every tool'\''s of a server): it is learnt again from the next calls.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|reset)
            "_warden_baselines_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_baselines_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_baselines_reset() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        ':name:'
        '--reason[Why (required; recorded in the audit log).]:reason:'
        '--as[A label for you in the audit log (the identity it records is what the kernel says\: uid, pid, executable, terminal).]:as:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_events() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'tail:Recent events; with --follow, new ones as they arrive.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        tail)
            "_warden_events_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_events_tail() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--follow[Keep printing new events.]'
        '--limit[How many recent events.]:limit:'
        '--session[Only this session.]:session:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_audit() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'verify:Check the hash chain and its signed head; exit 1 naming the first broken record.'
            'export:Export events and audit records for a SIEM.'
            'list:Audit records, newest first.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        verify|export|list)
            "_warden_audit_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_warden_audit_verify() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '*--anchor[A file or value holding audit anchors (warden-anchor.1.…)\: an export, a saved audit.head. Repeatable.]:anchor:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_audit_export() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--format[ocsf (OCSF 1.3 JSON lines), cef or syslog (RFC 5424).]:format:'
        '--since[Only records since this long ago (e.g. 24h) or this Unix time.]:since:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_audit_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--home[State directory (default\: $WARDEN_HOME or ~/.local/state/warden).]:home:'
        '--json[Print JSON instead of text.]'
        '--limit[How many.]:limit:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_warden_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _warden ]]; then
    _warden "${@}"
else
    compdef _warden warden
fi
