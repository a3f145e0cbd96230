" dump.vim - writes the syntax group of every byte of every file named in
" $RLP_FILES (one path a line) to $RLP_OUT, one letter per group, for
" tests/editors/highlight.py to compare with the scanner:
"   F PATH      a file
"   T FILETYPE  what ftdetect made of it
"   L LETTERS   one line: K keyword, C comment, O todo in a comment, S
"               string, E escape in a string, N number, B boolean, T
"               algorithm, F function, X template, . none, ? any other group
" Vim's messages go to $RLP_MSG.  Run with encoding=latin1 and no
" fileencodings, so that a column is a byte of the file.
set synmaxcol=0
let s:letter = {'rlpKeyword': 'K', 'rlpComment': 'C', 'rlpTodo': 'O', 'rlpString': 'S',
      \ 'rlpEscape': 'E', 'rlpNumber': 'N', 'rlpBoolean': 'B', 'rlpConstant': 'T',
      \ 'rlpFunction': 'F', 'rlpTemplate': 'X', '': '.'}
let s:out = []
for s:f in readfile($RLP_FILES)
  execute 'silent edit ' . fnameescape(s:f)
  call add(s:out, 'F ' . s:f)
  call add(s:out, 'T ' . &filetype)
  for s:l in range(1, line('$'))
    let s:g = ''
    for s:c in range(1, strlen(getline(s:l)))
      let s:g .= get(s:letter, synIDattr(synID(s:l, s:c, 1), 'name'), '?')
    endfor
    call add(s:out, 'L ' . s:g)
  endfor
  silent bwipeout!
endfor
call writefile(s:out, $RLP_OUT)
call writefile(split(execute('messages'), "\n"), $RLP_MSG)
