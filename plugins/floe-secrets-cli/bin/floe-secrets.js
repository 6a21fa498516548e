#!/usr/bin/env node
// The floe-secrets command. This shim is part of the package (not built), so that npm links the
// command when the package is installed, even in a repository checkout before lib/ is compiled.
require('../lib/main.js');
