# rlc.bash - bash completion for rlc: verbs, each verb's options (the ones
# `rlc VERB --help` lists, no more: tests/suites/completion.sh fails when
# the two differ), option values that are a fixed set, diagnostic codes, and
# file arguments (.rlp policies, .json plans, .yaml imports).
#
# Installed as /usr/share/bash-completion/completions/rlc (loaded on demand
# by the bash-completion package), or sourced by hand: it needs only bash,
# not bash-completion's helpers.  It runs rlc only to list diagnostic codes
# (`rlc explain --list`), never anything that reads a policy or a store.

_rlc_verbs='check fmt import explain compile keygen plan simulate test run diff status rollback audit top decide'

# Options per verb.  A trailing '=' means the help writes the option
# --name=VALUE; others take their value, if any, as the next word.
_rlc_deploy_opts='--target --only --state-dir --dry-run --force --full-read --verify --json -q --quiet'
_rlc_opts() {
    case $1 in
    check)    echo '--format= --each --report --allow= --deny= --color= -W -Werror -q --quiet -h --help' ;;
    fmt)      echo '--check --color= -q --quiet -h --help' ;;
    import)   echo '-o --output= --color= --format= -h --help' ;;
    explain)  echo '--json --list' ;;
    compile)  echo '-o --output= --library= --sign= --format= --color= -W -Werror -q --quiet -h --help' ;;
    keygen)   echo '' ;;
    plan)     echo '--json -h --help' ;;
    simulate) echo '--trace --synthetic --tenant --path --route --cost --rate --duration --json -o --output --no-decisions -h --help' ;;
    test)     echo '--format= --each --allow-empty -q --quiet --color= -h --help' ;;
    run|diff|status|rollback) echo "$_rlc_deploy_opts" ;;
    audit)    echo '--state-dir= --target= --namespace= --json -n' ;;
    top)      echo '--target --url --interval --once --json' ;;
    decide)   echo '--plan --target --cost --dry-run --state-dir --verify --json -h --help' ;;
    esac
}

# Words that must come first after the verb.
_rlc_subwords() {
    case $1 in
    import) echo 'envoy limitador' ;;
    plan)   echo 'show' ;;
    audit)  echo 'verify show' ;;
    esac
}

# _rlc_files EXT...: files with one of these extensions, and directories.
_rlc_files() {
    local cur=$1 ext f
    shift
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY+=($(compgen -d -- "$cur"))
    for ext in "$@"; do
        COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$cur"))
    done
}

_rlc_codes() {
    COMPREPLY+=($(compgen -W "$(command rlc explain --list 2>/dev/null | awk '{ print $1 }')" -- "$1"))
}

# The value of option OPT (given with '=' or as the next word) for VERB.
# Returns 1 when OPT takes no value this completion knows about.
_rlc_value() {
    local verb=$1 opt=$2 cur=$3
    case $opt in
    --format)
        case $verb in
        compile) COMPREPLY=($(compgen -W 'text json' -- "$cur")) ;;
        test)    COMPREPLY=($(compgen -W 'text json junit' -- "$cur")) ;;
        *)       COMPREPLY=($(compgen -W 'text json sarif github' -- "$cur")) ;;
        esac ;;
    --color) COMPREPLY=($(compgen -W 'auto always never' -- "$cur")) ;;
    --allow|--deny) _rlc_codes "$cur" ;;
    --synthetic) COMPREPLY=($(compgen -W 'steady burst ramp' -- "$cur")) ;;
    -W) COMPREPLY=($(compgen -W 'error' -- "$cur")) ;;
    --state-dir) compopt -o filenames 2>/dev/null; local IFS=$'\n'; COMPREPLY=($(compgen -d -- "$cur")) ;;
    -o|--output|--library|--sign|--verify|--trace)
        compopt -o filenames 2>/dev/null; local IFS=$'\n'; COMPREPLY=($(compgen -f -- "$cur")) ;;
    --target|--only|--tenant|--path|--route|--cost|--rate|--duration|--namespace|-n)
        COMPREPLY=() ;;
    *) return 1 ;;
    esac
    return 0
}

_rlc() {
    COMPREPLY=()
    local cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]}
    local prev='' prev2=''
    [ "$cword" -ge 1 ] && prev=${COMP_WORDS[cword-1]}
    [ "$cword" -ge 2 ] && prev2=${COMP_WORDS[cword-2]}

    if [ "$cword" -le 1 ]; then
        COMPREPLY=($(compgen -W "$_rlc_verbs --version --help" -- "$cur"))
        return 0
    fi
    local verb=${COMP_WORDS[1]}

    # --opt=VALUE: one word when COMP_WORDBREAKS has no '=', else three
    # ("--opt", "=", "VALUE").
    if [[ $cur == --*=* ]]; then
        local opt=${cur%%=*}
        _rlc_value "$verb" "$opt" "${cur#*=}" && return 0
    fi
    if [ "$cur" = '=' ]; then
        _rlc_value "$verb" "$prev" '' && return 0
    fi
    if [ "$prev" = '=' ]; then
        _rlc_value "$verb" "$prev2" "$cur" && return 0
    fi
    # An option whose value is the next word (rlc takes --opt=VALUE and
    # --opt VALUE alike).
    case " $(_rlc_opts "$verb") " in
    *" $prev "* | *" $prev= "*) _rlc_value "$verb" "$prev" "$cur" && return 0 ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_rlc_opts "$verb")" -- "$cur"))
        [[ ${COMPREPLY[0]:-} == *= ]] && compopt -o nospace 2>/dev/null
        return 0
    fi

    local sub
    sub=$(_rlc_subwords "$verb")
    if [ -n "$sub" ] && [ "$cword" -eq 2 ]; then
        COMPREPLY=($(compgen -W "$sub" -- "$cur"))
        return 0
    fi

    case $verb in
    check|fmt|compile|test) _rlc_files "$cur" rlp ;;
    simulate)               _rlc_files "$cur" rlp json csv ;;
    run|diff|status|plan|top) _rlc_files "$cur" json ;;
    import)                 _rlc_files "$cur" yaml yml ;;
    explain)                _rlc_codes "$cur" ;;
    keygen)                 compopt -o filenames 2>/dev/null; local IFS=$'\n'; COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
    return 0
}
complete -F _rlc rlc
