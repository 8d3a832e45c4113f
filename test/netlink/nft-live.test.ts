// NftService against the kernel, in namespaces this test creates (rulesets
// are per network namespace; the root namespace's ruleset is never touched).
// `nft -j list ruleset` inside the namespace is the independent oracle.
import t, { type Test } from 'tap'
import { createNamespace } from '../helpers/netns.js'
import { execFileSync } from 'node:child_process'
import { NetNamespace, NetlinkError } from '../../src/netlink/index.js'
import {
  NftService, NftRuleBuilder, NF_ACCEPT, NF_DROP, NFT_GOTO, NFT_JUMP, NFT_RETURN, NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC,
  NF_BR_PRE_ROUTING, NF_BR_PRI_NAT_DST_BRIDGED, NFT_META_IIFNAME, NFT_CHAIN_BASE, type NftRule
} from '../../src/netlink/nftables/index.js'

const root = process.getuid?.() === 0
let counter = 0

interface Ns { name: string, ns: NetNamespace, nft: NftService }

function namespace (t: Test): Ns {
  const name = `tscni-nft-${process.pid}-${counter++}`
  const ns = createNamespace(name)
  const nft = NftService.open({ namespace: ns })
  t.teardown(() => {
    nft.close()
    ns.close()
    NetNamespace.delete(name)
  })
  return { name, ns, nft }
}

// `nft -j list ruleset` in the namespace, without the metainfo entry.
function oracle (name: string): Array<Record<string, any>> {
  const out = execFileSync('ip', ['netns', 'exec', name, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' })
  return (JSON.parse(out).nftables as Array<Record<string, any>>).filter(e => e.metainfo === undefined)
}
const nftText = (name: string): string => execFileSync('ip', ['netns', 'exec', name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' })

const COMMENT = '63f96a6b6584fb83-3f3eae28ceca4598, net: dg3, if: eth0, id: c4'
const SPOOF = 'macspoofchk-c4-eth0'
const IFACE = 'cni-br-iface-c4-eth0'
const MAC = `${IFACE}-mac`

function masqBatch (nft: NftService, withContainerRules = true): ReturnType<NftService['batch']> {
  const b = nft.batch()
    .addTable({ family: 'inet', name: 'cni_plugins_masquerade' })
    .addChain({ family: 'inet', table: 'cni_plugins_masquerade', name: 'postrouting', type: 'nat', hook: { hooknum: NF_INET_POST_ROUTING, priority: NF_IP_PRI_NAT_SRC } })
    .addChain({ family: 'inet', table: 'cni_plugins_masquerade', name: 'masq_checks' })
    .flushChain('inet', 'cni_plugins_masquerade', 'postrouting')
    .addRule({ family: 'inet', table: 'cni_plugins_masquerade', chain: 'postrouting', expressions: new NftRuleBuilder('inet').ipDaddr('224.0.0.0/4').return().build() })
    .addRule({ family: 'inet', table: 'cni_plugins_masquerade', chain: 'postrouting', expressions: new NftRuleBuilder('inet').ip6Daddr('ff00::/8').return().build() })
    .addRule({ family: 'inet', table: 'cni_plugins_masquerade', chain: 'postrouting', expressions: new NftRuleBuilder('inet').goto('masq_checks').build() })
  if (!withContainerRules) return b
  return b
    .addRule({ family: 'inet', table: 'cni_plugins_masquerade', chain: 'masq_checks', expressions: new NftRuleBuilder('inet').ipSaddr('10.1.0.2').ipDaddr('10.1.0.0/24', 'neq').masquerade().build(), comment: COMMENT })
    .addRule({ family: 'inet', table: 'cni_plugins_masquerade', chain: 'masq_checks', expressions: new NftRuleBuilder('inet').ip6Saddr('fd00:1::2').ip6Daddr('fd00:1::/64', 'neq').masquerade().build(), comment: COMMENT })
}

function spoofBatch (nft: NftService): ReturnType<NftService['batch']> {
  const b = nft.batch()
    .addTable({ family: 'bridge', name: 'nat' })
    .addChain({ family: 'bridge', table: 'nat', name: 'PREROUTING', type: 'filter', hook: { hooknum: NF_BR_PRE_ROUTING, priority: NF_BR_PRI_NAT_DST_BRIDGED }, policy: NF_ACCEPT })
    .addChain({ family: 'bridge', table: 'nat', name: IFACE })
    .addChain({ family: 'bridge', table: 'nat', name: MAC })
  const br = (): NftRuleBuilder => new NftRuleBuilder('bridge')
  for (const [chain, e] of [['PREROUTING', br().iifname('veth1a2b3c4d').jump(IFACE)], [IFACE, br().jump(MAC)],
    [MAC, br().etherSaddr('0a:58:0a:01:00:02').return()], [MAC, br().drop()]] as const) {
    b.addRule({ family: 'bridge', table: 'nat', chain, expressions: e.build(), comment: SPOOF })
  }
  return b
}

t.test('nf_tables live', { skip: root ? false : 'needs root: creates network namespaces and nf_tables rulesets' }, async t => {
  // Read-only look at the root namespace's ruleset, to show it is left alone.
  const rootBefore = execFileSync('nft', ['-j', 'list', 'ruleset'], { encoding: 'utf8' })
  t.test('the masquerade layout, as nft sees it', async t => {
    const { name, nft } = namespace(t)
    await masqBatch(nft).commit()
    const o = oracle(name)
    t.same(o.filter(e => e.table !== undefined).map(e => [e.table.family, e.table.name]), [['inet', 'cni_plugins_masquerade']])
    const chains = o.filter(e => e.chain !== undefined).map(e => e.chain)
    t.match(chains[0], { name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' })
    t.match(chains[1], { name: 'masq_checks' })
    t.notOk('hook' in chains[1], 'masq_checks is a regular chain')
    const rules = o.filter(e => e.rule !== undefined).map(e => e.rule)
    t.equal(rules.length, 5)
    t.same(rules[0].expr, [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '224.0.0.0', len: 4 } } } }, { return: null }])
    t.same(rules[1].expr, [{ match: { op: '==', left: { payload: { protocol: 'ip6', field: 'daddr' } }, right: { prefix: { addr: 'ff00::', len: 8 } } } }, { return: null }])
    t.same(rules[2].expr, [{ goto: { target: 'masq_checks' } }])
    t.same(rules[3].expr, [
      { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '10.1.0.2' } },
      { match: { op: '!=', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '10.1.0.0', len: 24 } } } },
      { masquerade: null }])
    t.equal(rules[3].comment, COMMENT)
    t.match(nftText(name), /ip6 saddr fd00:1::2 ip6 daddr != fd00:1::\/64 masquerade comment "63f96a6b6584fb83/)

    // Our decoder reads back what we wrote, with the handles nft shows.
    const listed = await nft.listRules('inet', 'cni_plugins_masquerade')
    t.same(listed.map(r => r.handle), rules.map(r => BigInt(r.handle)))
    t.same(listed.map(r => r.comment), [undefined, undefined, undefined, COMMENT, COMMENT])
    t.match(listed[2]!.expressions, [{ type: 'immediate', data: { verdict: { code: NFT_GOTO, chain: 'masq_checks' } } }])
    t.same(listed[3]!.expressions.map(e => e.type), ['meta', 'cmp', 'payload', 'cmp', 'payload', 'cmp', 'masq'])
    const onlyMasq = await nft.listRules('inet', 'cni_plugins_masquerade', 'masq_checks')
    t.equal(onlyMasq.length, 2, 'the kernel filters the dump by chain')

    const tables = await nft.listTables()
    t.match(tables, [{ family: 'inet', name: 'cni_plugins_masquerade', use: 2 }])
    t.same(await nft.listTables('bridge'), [], 'family filter')
    const chainsDecoded = await nft.listChains('inet', 'cni_plugins_masquerade')
    t.match(chainsDecoded, [
      { name: 'postrouting', type: 'nat', policy: NF_ACCEPT, flags: NFT_CHAIN_BASE, hook: { hooknum: NF_INET_POST_ROUTING, priority: 100 } },
      { name: 'masq_checks', handle: BigInt(chains[1].handle) }])
    t.match(await nft.getChain('inet', 'cni_plugins_masquerade', 'postrouting'), { name: 'postrouting', handle: BigInt(chains[0].handle) })
    t.match(await nft.getTable('inet', 'cni_plugins_masquerade'), { name: 'cni_plugins_masquerade' })

    // The plugin commits the base layout on every ADD: postrouting is flushed and refilled, masq_checks kept.
    await masqBatch(nft, false).commit()
    const again = await nft.listRules('inet', 'cni_plugins_masquerade')
    t.same(again.map(r => r.chain), ['postrouting', 'postrouting', 'postrouting', 'masq_checks', 'masq_checks'])
    t.notSame(again.slice(0, 3).map(r => r.handle), listed.slice(0, 3).map(r => r.handle), 'new postrouting rules')
    t.same(again.slice(3).map(r => r.handle), listed.slice(3).map(r => r.handle), 'masq_checks untouched')
  })

  t.test('the macspoofchk layout, as nft sees it; delete by handle', async t => {
    const { name, nft } = namespace(t)
    await spoofBatch(nft).commit()
    const o = oracle(name)
    const pre = o.find(e => e.chain?.name === 'PREROUTING').chain
    t.match(pre, { family: 'bridge', table: 'nat', type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' })
    const rules = o.filter(e => e.rule !== undefined).map(e => e.rule)
    t.same(rules.map(r => r.comment), [SPOOF, SPOOF, SPOOF, SPOOF])
    t.same(rules[0].expr, [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'veth1a2b3c4d' } }, { jump: { target: IFACE } }])
    t.same(rules[1].expr, [{ jump: { target: MAC } }])
    t.same(rules[2].expr, [{ match: { op: '==', left: { payload: { protocol: 'ether', field: 'saddr' } }, right: '0a:58:0a:01:00:02' } }, { return: null }])
    t.same(rules[3].expr, [{ drop: null }])

    const listed = await nft.listRules('bridge', 'nat')
    const jump = listed.find((r: NftRule) => r.chain === 'PREROUTING')!
    t.match(jump.expressions, [{ type: 'meta', key: NFT_META_IIFNAME }, { type: 'cmp' }, { type: 'immediate', data: { verdict: { code: NFT_JUMP, chain: IFACE } } }])
    t.match(listed.filter(r => r.chain === MAC).map(r => r.expressions.at(-1)), [{ data: { verdict: { code: NFT_RETURN } } }, { data: { verdict: { code: NF_DROP } } }])

    // Teardown as the plugin does it: find the PREROUTING rule by comment, delete it and both chains.
    await nft.batch().deleteRule('bridge', 'nat', 'PREROUTING', jump.handle!).flushChain('bridge', 'nat', IFACE).flushChain('bridge', 'nat', MAC)
      .deleteChain('bridge', 'nat', IFACE).deleteChain('bridge', 'nat', MAC).commit()
    const after = oracle(name)
    t.same(after.filter(e => e.rule !== undefined), [], 'no rules left')
    t.same(after.filter(e => e.chain !== undefined).map(e => e.chain.name), ['PREROUTING'])
  })

  t.test('a batch with a failing operation applies nothing, and the error names it', async t => {
    const { name, nft } = namespace(t)
    const b = nft.batch()
      .addTable({ family: 'inet', name: 'x' })
      .addChain({ family: 'inet', table: 'x', name: 'c' })
      .addRule({ family: 'inet', table: 'x', chain: 'c', expressions: new NftRuleBuilder('inet').jump('missing').build() })
      .addChain({ family: 'inet', table: 'x', name: 'd' })
    const err = await b.commit().then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof NetlinkError, 'a NetlinkError')
    if (err instanceof NetlinkError) {
      t.equal(err.code, 'ENOENT')
      t.equal(err.operation, 'nf_tables batch operation 3 of 4: NFT_MSG_NEWRULE inet x c')
      t.match(err.message, /operation 3 of 4: NFT_MSG_NEWRULE inet x c in \/var\/run\/netns\/tscni-nft-.*: ENOENT/)
      t.equal(err.namespace, `/var/run/netns/${name}`)
    }
    t.same(oracle(name), [], 'nothing of the batch was applied')
    t.same(await nft.listTables(), [])
    await t.rejects(b.commit(), /already committed/)
  })

  t.test('errors with context: missing objects, exclusive create, empty batch', async t => {
    const { nft } = namespace(t)
    t.same(await nft.listRules('inet', 'nope'), [], 'a dump filtered on a missing table is empty, not an error')
    await t.rejects(nft.getTable('inet', 'nope'), { code: 'ENOENT', operation: 'NFT_MSG_GETTABLE inet nope' })
    await t.rejects(nft.batch().deleteRule('inet', 'nope', 'c', 5).commit(), { code: 'ENOENT', operation: 'nf_tables batch operation 1 of 1: NFT_MSG_DELRULE inet nope c handle 5' })
    await nft.batch().addTable({ family: 'inet', name: 't' }).commit()
    await nft.batch().addTable({ family: 'inet', name: 't' }).commit() // add is idempotent, as in nft
    await t.rejects(nft.batch().addTable({ family: 'inet', name: 't' }, { exclusive: true }).commit(), { code: 'EEXIST' })
    await nft.batch().deleteChain('inet', 't', 'gone', { ifExists: true }).deleteTable('inet', 'gone', { ifExists: true }).commit()
    t.pass('DESTROY of missing objects succeeds')
    const gen = await nft.getGeneration()
    await nft.batch().commit() // nothing to send
    t.equal((await nft.getGeneration()).id, gen.id, 'an empty batch is not sent')
    await nft.batch().deleteTable('inet', 't').commit()
    t.ok((await nft.getGeneration()).id > gen.id, 'a commit bumps the generation')
    t.same(await nft.listTables(), [])
  })

  t.test('a batch bound to a stale generation is refused at once', async t => {
    const { name, nft } = namespace(t)
    const gen = await nft.getGeneration()
    await nft.batch({ genId: gen.id }).addTable({ family: 'inet', name: 'a' }).commit()
    t.pass('the current generation is accepted')
    const started = Date.now()
    await t.rejects(nft.batch({ genId: gen.id }).addTable({ family: 'inet', name: 'b' }).commit(),
      { code: 'ERESTART', operation: 'nf_tables batch: NFNL_MSG_BATCH_BEGIN' })
    t.ok(Date.now() - started < 2000, 'answered, not timed out')
    t.same(oracle(name).map(e => e.table?.name), ['a'], 'table b was not added')
  })

  t.test('the root namespace ruleset is unchanged', async t => {
    t.equal(execFileSync('nft', ['-j', 'list', 'ruleset'], { encoding: 'utf8' }), rootBefore)
  })
})
