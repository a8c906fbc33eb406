// Command relay is the tunnel scenario's reference: the plainest TCP relay a Go program can be.
// It accepts a connection, dials -target and copies bytes both ways with io.Copy until either
// side is done, so skipper's blind CONNECT tunnel is measured against the copy alone.
package main

import (
	"flag"
	"io"
	"log"
	"net"
)

func main() {
	listen := flag.String("address", "127.0.0.1:8087", "address to listen on")
	target := flag.String("target", "127.0.0.1:8081", "address every connection is relayed to")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go relay(c, *target)
	}
}

func relay(client net.Conn, target string) {
	defer client.Close()
	upstream, err := net.Dial("tcp", target)
	if err != nil {
		log.Print(err)
		return
	}
	defer upstream.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(upstream, client)
		upstream.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(client, upstream)
	client.(*net.TCPConn).CloseWrite()
	<-done
}
