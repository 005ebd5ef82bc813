package sample

import _ "github.com/rbee-go/rbee/testflags"
