// Replaces node-gyp-build for netlink/dist/raw.js inside the bundles.
'use strict'
module.exports = () => require('./native.cjs').dlopenNetlinkBinding()
