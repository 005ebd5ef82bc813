package rustworker_test

import _ "github.com/rbee-go/rbee/testflags"
