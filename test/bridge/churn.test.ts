// Churn with kill -9 (issue 11), root, exec path: 1,000 ADD/DEL cycles on 6
// pods at once with ipMasq and macspoofchk, every 10th ADD killed with
// SIGKILL at a random moment; most killed ADDs get their DEL, every 3rd
// one's pod is deleted without a DEL and a GC cleans up at the end. Ends with
// nothing in the dataDir but the lock and last_reserved_ip.*, no temp file,
// no link but the bridge, no rule but the shared tables and chains, no
// attachment record, and never one address held by two live attachments.
// TSCNI_CHURN_CYCLES and TSCNI_CHURN_CONCURRENCY override the cycle count and
// the number of pods (quick local runs). Measured on the 2-core machine:
// ~200-290 ms per cycle at saturation (3.5-5 min), while one ADD or DEL alone
// takes ~80 ms; adding pods beyond 6 gains little.
import t, { type Test } from 'tap'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { links, setupEnv, skipReason, type Env } from '../helpers/bridge.js'
import { ourRules, recordFiles, SHARED_ONLY } from '../helpers/attachments.js'
import { execRunner, runChurn, type ChurnRunner, type ChurnStats } from '../helpers/churn.js'
import { startAgent } from '../helpers/agent.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

const CYCLES = Number(process.env.TSCNI_CHURN_CYCLES ?? 1000)

/** What both churns end with: every DEL done, no address held twice, and after GC nothing of ours left on the node. */
async function nothingLeft (t: Test, stats: ChurnStats, env: Env, runner: ChurnRunner): Promise<void> {
  t.same(stats.failedDels, [], 'every DEL succeeded')
  t.same(stats.duplicates, [], 'no address was ever held by two live attachments')
  const gc = await runner.gc([])
  t.equal(gc.code, 0, `GC with no valid attachment${gc.code !== 0 ? `: ${gc.stdout}` : ''}`)
  t.same(readdirSync(join(env.dataDir, 'tnet')).filter(f => f !== 'lock' && !f.startsWith('last_reserved_ip.')), [], 'the dataDir holds only the lock and last_reserved_ip.*')
  t.same(readdirSync(join(env.dataDir, '.tscni')).sort(), ['tnet.boot', 'tnet.index'], 'beside it only our index and boot record: no temp file')
  t.same(links(env.node).map(l => l.ifname).sort(), ['lo', 'tbr0'], 'no link but the bridge')
  t.same(ourRules(env.node), SHARED_ONLY, 'no rule or chain but the shared tables and chains')
  t.same(recordFiles(env.stateDir), {}, 'no attachment record')
}

t.test(`${CYCLES} ADD/DEL cycles with kill -9, exec path: nothing left`, async t => {
  const env = setupEnv(t, 'churn')
  const config = env.config({ isGateway: true, ipMasq: true, macspoofchk: true }, { cniVersion: '1.1.0', subnet: '10.80.0.0/20' })
  const runner = execRunner({ node: env.node, config, stateDir: env.stateDir })
  const stats = await runChurn({ cycles: CYCLES, concurrency: Number(process.env.TSCNI_CHURN_CONCURRENCY ?? 6), killEvery: 10, orphanEvery: 3, runner, prefix: 'tscni-churn' })
  t.comment(`${stats.cycles} cycles in ${(stats.ms / 1000).toFixed(1)} s: ${stats.killed} ADDs killed (${stats.orphaned} without DEL), ${stats.killedTooLate} finished before their kill; mean ADD ${stats.meanAddMs} ms, DEL ${stats.meanDelMs} ms`)
  t.equal(stats.cycles, CYCLES)
  t.ok(stats.killed > 0, 'some ADDs were killed')
  t.same(stats.failedAdds, [], 'every ADD that was not killed succeeded')
  await nothingLeft(t, stats, env, runner)
})

t.test(`${CYCLES} ADD/DEL cycles with kill -9 through the agent, and the agent itself killed -9 once: nothing left`, async t => {
  let agent = await startAgent(t)
  const env = setupEnv(t, 'churna')
  const config = env.config({ isGateway: true, ipMasq: true, macspoofchk: true }, { cniVersion: '1.1.0', subnet: '10.81.0.0/20' })
  const base = execRunner({ node: env.node, config, stateDir: env.stateDir, agentSocket: agent.socket })
  // As a runtime does: a DEL answered "try again later" (code 11: the agent died under it) is sent again.
  let retried = 0
  const runner = {
    ...base,
    del: async (o: { containerId: string, netns: string }) => {
      const r = await base.del(o)
      if (r.code === 0 || !/"code": 11/.test(r.stdout)) return r
      retried++
      return await base.del(o)
    }
  }
  const churn = runChurn({ cycles: CYCLES, concurrency: Number(process.env.TSCNI_CHURN_CONCURRENCY ?? 6), killEvery: 10, orphanEvery: 3, runner, prefix: 'tscni-churna' })
  // Once a third of the ADDs went through it, the agent dies mid-churn; calls meanwhile take the exec path; then a new one starts on the same socket.
  let servedBefore = 0
  for (let i = 0; i < 6000; i++) {
    servedBefore = (await agent.status()).served?.bridge?.ADD ?? 0
    if (servedBefore >= CYCLES / 3) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  await agent.kill()
  await new Promise(resolve => setTimeout(resolve, 500))
  agent = await startAgent(t, [], agent)
  const stats = await churn
  const servedAfter = (await agent.status()).served?.bridge?.ADD ?? 0
  t.comment(`${stats.cycles} cycles in ${(stats.ms / 1000).toFixed(1)} s: ${stats.killed} clients killed (${stats.orphaned} pods without DEL); the first agent served ${servedBefore}+ ADDs before its kill -9, the second ${servedAfter}; ${retried} DEL(s) retried after code 11; mean ADD ${stats.meanAddMs} ms, DEL ${stats.meanDelMs} ms`)
  t.ok(servedBefore > 0 && servedAfter > 0, 'both agents served ADDs')
  t.same(stats.failedAdds.filter(f => !/code": 11/.test(f)), [], 'every ADD that was not killed succeeded (or was cut short by the agent\'s death: code 11)')
  await nothingLeft(t, stats, env, runner)
})
