// The two native pieces the library uses, loaded on first use only:
// the `netlink` package's RawNetlinkSocket (from its raw module: the package
// root would also load its generated codecs, ~30 ms) and koffi (libc calls).
// The plugin bundles replace this file with one that dlopens the same addons
// shipped beside the bundle (scripts/build-bin.mjs), skipping the packages'
// path probing, which costs more than the addons themselves.
import { createRequire } from 'node:module'
import type { RawNetlinkSocket } from 'netlink/dist/raw.js'

const require = createRequire(import.meta.url)

export type Koffi = typeof import('koffi')

let koffi: Koffi | undefined
export function loadKoffi (): Koffi {
  koffi ??= require('koffi') as Koffi
  return koffi
}

/** koffi if something loaded it already, else undefined (asking loads nothing). */
export function loadedKoffi (): Koffi | undefined {
  return koffi
}

let raw: typeof RawNetlinkSocket | undefined
export function loadRawNetlinkSocket (): typeof RawNetlinkSocket {
  raw ??= (require('netlink/dist/raw.js') as { RawNetlinkSocket: typeof RawNetlinkSocket }).RawNetlinkSocket
  return raw
}
