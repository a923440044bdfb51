// vcsim for the esx plugin's tests: VMware's vSphere API simulator (govmomi's
// simulator package) serving an ESX or vCenter model on a loopback port.
// Prints "URL <url>" once listening; stops when stdin closes or on SIGTERM.
// GET /virtkit-requests answers how many SOAP requests were served so far.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// A fresh self-signed certificate for 127.0.0.1, so nothing trusts it.
func selfSigned() tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "vcsim.virtkit.test"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func main() {
	model := flag.String("model", "esx", "esx or vpx")
	vms := flag.Int("vm", 2, "VMs per resource pool")
	useTLS := flag.Bool("tls", false, "serve HTTPS with a generated self-signed certificate")
	user := flag.String("user", "root", "login user name")
	pass := flag.String("pass", "secret", "login password")
	delay := flag.String("delay", "", "METHOD=ms[,METHOD=ms]: delay answering these SOAP methods")
	flag.Parse()

	m := simulator.ESX()
	if *model == "vpx" {
		m = simulator.VPX()
	}
	m.Machine = *vms
	m.Autostart = false
	if *delay != "" {
		m.DelayConfig.MethodDelay = map[string]int{}
		for _, item := range strings.Split(*delay, ",") {
			kv := strings.SplitN(item, "=", 2)
			ms, _ := strconv.Atoi(kv[len(kv)-1])
			m.DelayConfig.MethodDelay[kv[0]] = ms
		}
	}
	if err := m.Create(); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
	defer m.Remove()
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(*user, *pass)}
	if *useTLS {
		m.Service.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned()}}
	}
	s := m.Service.NewServer()
	defer s.Close()

	var requests int64
	sdk := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/virtkit-requests" {
			fmt.Fprintln(w, atomic.LoadInt64(&requests))
			return
		}
		if r.Method == http.MethodPost {
			atomic.AddInt64(&requests, 1)
		}
		sdk.ServeHTTP(w, r)
	})

	fmt.Printf("URL %s://%s/sdk\n", s.URL.Scheme, s.URL.Host)
	os.Stdout.Sync()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { io.Copy(io.Discard, os.Stdin); stop <- syscall.SIGTERM }()
	<-stop
}
