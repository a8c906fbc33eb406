module github.com/skipper-egress/skipper

go 1.26.0

require (
	github.com/fsnotify/fsnotify v1.10.1
	github.com/sirupsen/logrus v1.10.2
	github.com/spf13/pflag v1.1.0
	golang.org/x/oauth2 v0.38.0
)

require golang.org/x/sys v0.13.0 // indirect
