" rlp.vim - Vim syntax for rlc policies (.rlp): keywords, comments, strings
" with their escapes, integers and durations, booleans, env()/file(), the
" algorithm names, and the '*' of templates.  It follows the scanner
" (lang/lexer.l): an identifier is [A-Za-z_][A-Za-z0-9_.-]*, so 'key-name'
" and 'test.x' are names, not keywords; a string ends on the line it starts.
" It does not check anything: rlc check does.
"
" Install: copy syntax/ and ftdetect/ into ~/.vim (or a pack/*/start/
" directory).  tests/suites/editors.sh highlights every .rlp file of the
" repository with it and fails when a keyword of the scanner is missing here.

if exists('b:current_syntax')
  finish
endif
let s:cpo_save = &cpo
set cpo&vim

syn case match
" The scanner's identifier characters, so keywords match whole names only.
syn iskeyword @,48-57,_,.,-

syn keyword rlpKeyword policy import tier extends tenant group key route limit
syn keyword rlpKeyword burst cost algorithm shadow concurrency lease allow
syn keyword rlpKeyword target test request send within expect allowed rejected
syn keyword rlpKeyword wait

syn keyword rlpBoolean true false
syn keyword rlpConstant token_bucket gcra sliding_window fixed_window approx_sliding_window
syn match rlpFunction "\<\%(env\|file\)\ze("

" 600, -1, 1m, 250ms: an integer, or a duration (digits and a unit).
syn match rlpNumber "\<-\=\d\+\a*\>"
syn match rlpTemplate "\*"

syn match rlpEscape +\\.+ contained
syn region rlpString start=+"+ skip=+\\.+ end=+"+ end=+$+ oneline contains=rlpEscape

syn keyword rlpTodo TODO FIXME XXX NOTE contained
syn match rlpComment "#.*$" contains=rlpTodo

syn sync minlines=1

hi def link rlpKeyword  Keyword
hi def link rlpBoolean  Boolean
hi def link rlpConstant Constant
hi def link rlpFunction Function
hi def link rlpNumber   Number
hi def link rlpTemplate Special
hi def link rlpEscape   SpecialChar
hi def link rlpString   String
hi def link rlpTodo     Todo
hi def link rlpComment  Comment

let b:current_syntax = 'rlp'
let &cpo = s:cpo_save
unlet s:cpo_save
