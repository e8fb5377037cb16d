# bash completion for limactl and lima: commands, each command's flags (read from its --help,
# so they never drift), flag values, instance names from limad (`limactl list -q`, over
# D-Bus) and template:NAME for create/start.

_limactl_instances() {
        "${1:-limactl}" $2 list -q 2>/dev/null
}

_limactl() {
        local cur prev cmd= global= i word
        COMPREPLY=()
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        for ((i = 1; i < COMP_CWORD; i++)); do
                word=${COMP_WORDS[i]}
                case $word in
                --system | --user) global+=" $word" ;;
                -*) ;;
                *)
                        cmd=$word
                        break
                        ;;
                esac
        done
        local commands="create start stop restart delete edit list info shell copy mount validate help"
        if [[ -z $cmd ]]; then
                COMPREPLY=($(compgen -W "$commands --system --user --help --version" -- "$cur"))
                return
        fi
        case $cmd in
        ls) cmd=list ;;
        rm | remove) cmd=delete ;;
        cp) cmd=copy ;;
        esac
        case $prev in
        --mount-type)
                COMPREPLY=($(compgen -W "reverse-sshfs 9p virtiofs" -- "$cur"))
                return
                ;;
        --vm-type)
                COMPREPLY=($(compgen -W "qemu vz wsl2" -- "$cur"))
                return
                ;;
        --arch)
                COMPREPLY=($(compgen -W "x86_64 aarch64 riscv64 armv7l s390x ppc64le" -- "$cur"))
                return
                ;;
        --containerd)
                COMPREPLY=($(compgen -W "user system user+system none" -- "$cur"))
                return
                ;;
        --tty)
                COMPREPLY=($(compgen -W "true false" -- "$cur"))
                return
                ;;
        --backend)
                COMPREPLY=($(compgen -W "scp auto" -- "$cur"))
                return
                ;;
        --mount | --mount-only | --workdir)
                COMPREPLY=($(compgen -d -- "$cur"))
                return
                ;;
        --name | --cpus | --memory | --disk | --set | --param | --timeout | --shell | --format)
                return
                ;;
        esac
        if [[ $cur == -* ]]; then
                local flags
                flags=$(limactl $global "$cmd" --help 2>/dev/null |
                        grep -o -- '--[a-z][a-z-]*' | sort -u)
                COMPREPLY=($(compgen -W "$flags" -- "$cur"))
                return
        fi
        local names
        names=$(_limactl_instances limactl "$global")
        case $cmd in
        create | start)
                local templates
                templates=$(limactl $global create --list-templates 2>/dev/null | sed 's/^/template:/')
                COMPREPLY=($(compgen -W "$names $templates" -- "$cur"))
                [[ $cmd == create || -z $names ]] && COMPREPLY+=($(compgen -f -X '!*.y*ml' -- "$cur"))
                ;;
        copy)
                COMPREPLY=($(compgen -W "$(printf '%s: ' $names)" -- "$cur"))
                COMPREPLY+=($(compgen -f -- "$cur"))
                compopt -o nospace 2>/dev/null
                ;;
        mount)
                if [[ $prev == mount ]]; then
                        COMPREPLY=($(compgen -W "add remove list" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$names" -- "$cur"))
                fi
                ;;
        validate)
                COMPREPLY=($(compgen -f -- "$cur"))
                ;;
        shell)
                # Only the instance; what follows it is the guest's command.
                [[ $prev == shell || $prev == -* ]] && COMPREPLY=($(compgen -W "$names" -- "$cur"))
                ;;
        *)
                COMPREPLY=($(compgen -W "$names" -- "$cur"))
                ;;
        esac
}

# lima CMD runs CMD in the guest: host commands are the best guess for its first word.
_lima() {
        if [[ $COMP_CWORD -eq 1 ]]; then
                COMPREPLY=($(compgen -c -- "${COMP_WORDS[1]}"))
        else
                COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
        fi
}

complete -F _limactl limactl
complete -F _lima lima
