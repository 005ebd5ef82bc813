package server

import _ "github.com/rbee-go/rbee/testflags"
