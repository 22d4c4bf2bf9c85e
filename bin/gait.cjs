#!/usr/bin/env node
"use strict"
require("../dist/gait.cjs")
