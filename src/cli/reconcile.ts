// `tscni reconcile [--dry-run] [--json] [--network NAME]... [--state-dir DIR]`:
// one pass of the reconciler (src/plugins/bridge/reconcile.ts) in this
// process's network namespace: the masquerade and spoof-check rules, chains
// and tables of live attachments put back from their attachment records.
// Prints what it repaired (or, with --dry-run, what it would); exit 1 when
// something failed.
import { attachmentsDir, STATE_DIR_ENV } from '../plugins/bridge/attachments.js'
import { reconcile, type ReconcileReport } from '../plugins/bridge/reconcile.js'
import { parseFlags } from './flags.js'

export const usage = 'reconcile [--dry-run] [--json] [--network NAME]... [--state-dir DIR]'

export async function run (args: string[]): Promise<number> {
  const { flags } = parseFlags(args, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, network: { type: 'string', multiple: true }, 'state-dir': { type: 'string' } }, usage)
  const dryRun = flags['dry-run'] === true
  const json = flags.json === true
  const stateDir = flags['state-dir']
  const networks = flags.network ?? []
  const recordsDir = attachmentsDir(stateDir === undefined ? process.env : { ...process.env, [STATE_DIR_ENV]: stateDir })
  const report = await reconcile({ recordsDir, dryRun, ...(networks.length > 0 ? { networks } : {}) })
  process.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report))
  return report.errors.length > 0 ? 1 : 0
}

export function formatReport (r: ReconcileReport): string {
  const verb = r.dryRun ? 'would repair' : 'repaired'
  const lines: string[] = []
  for (const s of r.shared) lines.push(`${verb} shared: ${s}`)
  for (const a of r.repaired) lines.push(`${verb} ${a.network} ${a.containerID}/${a.ifname} (${a.hostVeth}): ${a.missing.join('; ')}`)
  for (const a of r.skipped) lines.push(`skipped ${a.network} ${a.containerID}/${a.ifname}: ${a.reason}`)
  for (const e of r.errors) lines.push(`error ${e.what}: ${e.error}`)
  lines.push(`${r.records} record(s): ${r.repaired.length} ${verb}, ${r.intact} intact, ${r.skipped.length} skipped, ${r.errors.length} error(s)${r.dryRun ? ' (dry run: nothing changed)' : ''}`)
  return lines.join('\n') + '\n'
}
