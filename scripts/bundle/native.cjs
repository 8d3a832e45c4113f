// Stands in for src/netlink/native.ts inside the plugin bundles: dlopen the
// addons copied beside the bundle (build/native/), without the packages' own
// path probing (koffi's and node-gyp-build's lookups cost ~4 ms per start).
'use strict'
const { join } = require('node:path')

function dlopen (file) {
  const m = { exports: {} }
  process.dlopen(m, join(__dirname, 'native', file))
  return m.exports
}

let koffi
exports.loadKoffi = function loadKoffi () {
  koffi ??= dlopen('koffi.node')
  return koffi
}

exports.loadedKoffi = () => koffi

let raw
exports.loadRawNetlinkSocket = function loadRawNetlinkSocket () {
  raw ??= require('netlink/dist/raw.js').RawNetlinkSocket
  return raw
}

exports.dlopenNetlinkBinding = () => dlopen('netlink.node')
