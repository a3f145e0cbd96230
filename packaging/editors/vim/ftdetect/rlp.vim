" rlp.vim - .rlp files are rlc policies.
autocmd BufRead,BufNewFile *.rlp setfiletype rlp
