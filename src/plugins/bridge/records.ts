// The bridge commands' side of the attachment records (attachments.ts): ADD
// writes the record before the veth exists and again when done, its
// rollback removes it; DEL and GC read it to undo what a killed ADD left.
import type { PluginContext } from '../../cni/skel.js'
import type { AddState } from './add.js'
import { RECORD_VERSION, attachmentsDir, recordPath, removeRecord, writeRecord, type AttachmentRecord } from './attachments.js'

/** writeRecord with an error that says which record could not be written. */
function write (dir: string, record: AttachmentRecord): void {
  try {
    writeRecord(dir, record)
  } catch (err) {
    throw new Error(`failed to write the attachment record ${recordPath(dir, record.network, record.containerID, record.ifname)}: ${(err as Error).message}`, { cause: err })
  }
}

/** The records directory of this command's caller. */
export function recordsDirOf (ctx: Pick<PluginContext, 'env' | 'caller'>): string {
  return attachmentsDir(ctx.env, ctx.caller)
}

/** Called just before the veth pair is created, with the host end's name to be: the "adding" record. */
export function writeAddingRecord (s: AddState, hostVeth: string): AttachmentRecord {
  const now = new Date().toISOString()
  const record: AttachmentRecord = {
    version: RECORD_VERSION,
    plugin: 'bridge',
    network: s.ctx.name,
    containerID: s.ctx.containerId,
    ifname: s.ctx.ifname,
    netns: s.ctx.netns,
    state: 'adding',
    bridge: s.conf.bridge,
    hostVeth,
    ips: [],
    ipMasq: s.l3 && s.conf.ipMasq,
    macspoofchk: s.conf.macspoofchk,
    created: s.record?.created ?? now,
    updated: now
  }
  write(recordsDirOf(s.ctx), record)
  return record
}

/** The last step of ADD: the record as "ready", with what the reconciler needs to put the rules back. */
export function writeReadyRecord (s: AddState): void {
  const base = s.record ?? writeAddingRecord(s, s.hostVeth!.name)
  const record: AttachmentRecord = {
    ...base,
    state: 'ready',
    hostVeth: s.hostVeth!.name,
    ips: (s.result.ips ?? []).map(ip => ip.address),
    updated: new Date().toISOString()
  }
  const mac = s.containerLink?.mac
  if (mac !== undefined) record.containerMac = mac
  write(recordsDirOf(s.ctx), record)
  s.record = record
}

/** The rollback of a failed ADD, once its veth is gone. */
export function dropAddRecord (s: AddState): void {
  if (s.record === undefined) return
  removeRecord(recordPath(recordsDirOf(s.ctx), s.ctx.name, s.ctx.containerId, s.ctx.ifname))
  delete s.record
}
