// Reclaim after reboot: no network namespace survives a reboot, so neither
// does any attachment, yet host-local's reservations live on disk and would
// exhaust the range over a few reboots (upstream's answer is "put the
// dataDir on tmpfs"). The store records the boot id of its last ADD or GC
// beside its index (store.ts `checkBoot`); the first ADD or GC of a new boot,
// or the agent's start (`reclaimAfterReboot` below), releases what the
// earlier boot held.
import { readFileSync } from 'node:fs'
import { HostLocalStore, type BootCheck } from './store.js'

/** Tests simulate a reboot by changing this variable. */
export const BOOT_ID_ENV = 'TSCNI_BOOT_ID'
export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id'

/** The boot id: `TSCNI_BOOT_ID` from env when set and not empty, else the kernel's (not namespaced). */
export function currentBootId (env: NodeJS.ProcessEnv = process.env): string {
  const override = env[BOOT_ID_ENV]
  if (override !== undefined && override.trim() !== '') return override.trim()
  return readFileSync(BOOT_ID_PATH, 'utf8').trim()
}

/**
 * For the agent's start: releases the reservations of `<dataDir>/<network>`
 * made under an earlier boot and records this one, under the store's lock.
 * Does nothing (and creates nothing) when the store does not exist. `reclaim:
 * false` (the network's `"reclaimAfterReboot": false`) only records the boot.
 */
export async function reclaimAfterReboot (dataDir: string, network: string, options: { bootId?: string, reclaim?: boolean } = {}): Promise<BootCheck | undefined> {
  if (!HostLocalStore.exists(dataDir, network)) return undefined
  const bootId = options.bootId ?? currentBootId()
  const store = HostLocalStore.open(dataDir, network)
  try {
    return await store.withLock(() => store.checkBoot(bootId, options.reclaim ?? true))
  } finally {
    store.close()
  }
}
