package main

import _ "github.com/rbee-go/rbee/testflags"
