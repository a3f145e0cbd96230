// peer.js - the peer side of tests/bench/peer.sh: N decisions of npm's
// rate-limiter-flexible against the redis-server the bench measures.
// Loads the package from the directory the bench installed it into; it is
// never a dependency of rlc.  Decisions go out 64 at a time (ioredis
// auto-pipelining), as redis-cli --pipe batches rlc's, so neither side pays
// a read and a write per decision inside the server.
//
//   node peer.js MODULES PORT N MODE [CALLGRIND_PID]
//   MODE: admitted | rejected (RateLimiterRedis, one level) | union (three
//   RateLimiterRedis in a RateLimiterUnion)
// With CALLGRIND_PID, the connection, the script load and a warm-up run
// first, then `callgrind_control -d` closes that dump, so the next dump
// (the bench's, after this exits) holds only the N decisions.  Prints the
// seconds the N decisions took and how many were admitted.
'use strict';
const path = require('path');
const { execFileSync } = require('child_process');
const [modules, port, nArg, mode, cgpid] = process.argv.slice(2);
const Redis = require(path.join(modules, 'ioredis'));
const rlf = require(path.join(modules, 'rate-limiter-flexible'));
const N = Number(nArg);
const BATCH = 64;

const client = new Redis({ host: '127.0.0.1', port: Number(port), enableAutoPipelining: true,
                           maxRetriesPerRequest: 1, lazyConnect: true });
const level = (prefix, points) => new rlf.RateLimiterRedis({
    storeClient: client, keyPrefix: prefix, points, duration: 3600 });
let limiter;
if (mode === 'admitted')
    limiter = level('peer1', 100000000);
else if (mode === 'rejected')
    limiter = level('peer1r', 1);
else if (mode === 'union')
    limiter = new rlf.RateLimiterUnion(level('peer3t', 100000000), level('peer3g', 50000000),
                                       level('peer3k', 10000000));
else {
    console.error(`peer.js: unknown mode ${mode}`);
    process.exit(2);
}

// One decision: true when admitted.  A rejection (a RateLimiterRes, or
// the union's object of them) is an answer; anything else is a failure.
async function decide() {
    try {
        await limiter.consume('acme', 1);
        return true;
    } catch (e) {
        if (e instanceof Error)
            throw e;
        return false;
    }
}

async function run(n) {
    let admitted = 0;
    for (let i = 0; i < n; i += BATCH) {
        const k = Math.min(BATCH, n - i);
        const res = await Promise.all(Array.from({ length: k }, decide));
        admitted += res.filter(Boolean).length;
    }
    return admitted;
}

(async () => {
    await client.connect();
    await run(BATCH);
    if (cgpid)
        execFileSync('callgrind_control', ['-d', cgpid], { stdio: 'ignore' });
    const t0 = process.hrtime.bigint();
    const admitted = await run(N);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`${s.toFixed(4)} ${admitted}`);
    client.disconnect();
})().catch((e) => {
    console.error(`peer.js: ${e.message}`);
    process.exit(2);
});
