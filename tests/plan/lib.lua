#!lua name=rlc
-- A stand-in enforcement library for the plan tests: the plan must carry
-- whatever library it is given, byte for byte, with its name and version.
local LIBRARY_VERSION = 7
redis.register_function('rlc_test', function(keys, args) return 1 end)
