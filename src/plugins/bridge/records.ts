// The bridge commands' side of the attachment records (attachments.ts): ADD
// writes the record before the veth exists and again when done, its
// rollback removes it; DEL and GC read it to undo what a killed ADD left.
import type { PluginContext } from '../../cni/skel.js'
import type { BridgeConfig } from './config.js'
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

/** What the records of one ADD are made from. */
export interface AddRecordSource {
  ctx: Pick<PluginContext, 'name' | 'containerId' | 'ifname' | 'netns' | 'env' | 'caller'>
  conf: Pick<BridgeConfig, 'bridge' | 'ipMasq' | 'macspoofchk'>
  /** ipam.type is set. */
  l3: boolean
}

/** What the "ready" record adds: the addresses and the container's MAC (for the reconciler to put the rules back). */
interface Ready { ips: string[], containerMac: string | undefined }

function addRecord (s: AddRecordSource, hostVeth: string, created: string, ready?: Ready): AttachmentRecord {
  return {
    version: RECORD_VERSION,
    plugin: 'bridge',
    network: s.ctx.name,
    containerID: s.ctx.containerId,
    ifname: s.ctx.ifname,
    netns: s.ctx.netns,
    state: ready === undefined ? 'adding' : 'ready',
    bridge: s.conf.bridge,
    hostVeth,
    ips: ready?.ips ?? [],
    ipMasq: s.l3 && s.conf.ipMasq,
    macspoofchk: s.conf.macspoofchk,
    created,
    updated: new Date().toISOString(),
    containerMac: ready?.containerMac
  }
}

/** Called just before the veth pair is created, with the host end's name to be: the "adding" record. */
export function writeAddingRecord (s: AddRecordSource, hostVeth: string, created: string): void {
  write(recordsDirOf(s.ctx), addRecord(s, hostVeth, created))
}

/** The last step of ADD: the record as "ready", with what the reconciler needs to put the rules back. */
export function writeReadyRecord (s: AddRecordSource, hostVeth: string, created: string, ready: Ready): void {
  write(recordsDirOf(s.ctx), addRecord(s, hostVeth, created, ready))
}

/** The rollback of a failed ADD, once its veth is gone. */
export function dropAddRecord (ctx: AddRecordSource['ctx']): void {
  removeRecord(recordPath(recordsDirOf(ctx), ctx.name, ctx.containerId, ctx.ifname))
}
