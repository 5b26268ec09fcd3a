// A small hashicorp/memberlist agent for Ingot's lab tests: one member configured as MetalLB's speaker configures its
// memberlist (internal/speakerlist: DefaultLANConfig, Name = node name, BindAddr, BindPort = AdvertisePort, SecretKey =
// sha256.New().Sum([]byte(secret))[:32]). It prints what happens as JSON lines on stdout and takes commands as JSON lines
// on stdin, so a test can drive it:
//
//	{"cmd":"join","addrs":["192.0.2.1:7946"]}          -> {"event":"joined","n":1}
//	{"cmd":"members"}                                  -> {"event":"members","members":[...]}
//	{"cmd":"meta","meta":"zone=a"}                     -> {"event":"meta-set"}    (UpdateNode gossips the new meta)
//	{"cmd":"send","node":"n2","data":"hi","reliable":true} -> {"event":"sent"}    (a user message, UDP or TCP)
//	{"cmd":"broadcast","data":"hi"}                    -> {"event":"queued"}      (piggybacked on gossip as a user message)
//	{"cmd":"leave","timeoutMs":1000}                   -> {"event":"left"}, then the agent exits 0
//
// Events: ready (with the bound address), join/leave/update (memberlist's EventDelegate), message (a user message arrived),
// remote-state (push-pull user state arrived), error. SIGTERM and SIGINT leave gracefully as MetalLB's speaker does
// (Leave(1s), Shutdown). With -record FILE every packet and stream chunk the agent sends or receives is appended to FILE
// as a JSON line with its hex bytes (the fixtures of @ingot/election's memberlist codec come from there).
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

var out = struct {
	sync.Mutex
	w *bufio.Writer
}{w: bufio.NewWriter(os.Stdout)}

// emit prints one JSON line on stdout; t is milliseconds since the Unix epoch.
func emit(event string, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["event"] = event
	fields["t"] = time.Now().UnixMilli()
	line, err := json.Marshal(fields)
	if err != nil {
		line = []byte(fmt.Sprintf(`{"event":"error","error":%q}`, err.Error()))
	}
	out.Lock()
	defer out.Unlock()
	out.w.Write(line)
	out.w.WriteByte('\n')
	out.w.Flush()
}

// metallbKey is MetalLB's derivation: Go's Sum(b) appends the digest of the empty hash to b, so this is
// (secret ‖ sha256(""))[:32], not a hash of the secret.
func metallbKey(secret string) []byte {
	sha := sha256.New()
	return sha.Sum([]byte(secret))[:32]
}

func nodeFields(n *memberlist.Node) map[string]any {
	return map[string]any{
		"node":    n.Name,
		"addr":    n.Addr.String(),
		"port":    n.Port,
		"meta":    string(n.Meta),
		"metaHex": hex.EncodeToString(n.Meta),
		"state":   int(n.State),
		"vsn":     []int{int(n.PMin), int(n.PMax), int(n.PCur), int(n.DMin), int(n.DMax), int(n.DCur)},
	}
}

type events struct{}

func (events) NotifyJoin(n *memberlist.Node)   { emit("join", nodeFields(n)) }
func (events) NotifyLeave(n *memberlist.Node)  { emit("leave", nodeFields(n)) }
func (events) NotifyUpdate(n *memberlist.Node) { emit("update", nodeFields(n)) }

// delegate carries node meta, user messages and push-pull user state. With nothing set it puts exactly what a
// memberlist without a Delegate (MetalLB's speaker) puts on the wire: empty meta, no user state, no broadcasts.
type delegate struct {
	mu        sync.Mutex
	meta      []byte
	userState []byte
	queue     *memberlist.TransmitLimitedQueue
}

func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.meta) > limit {
		return d.meta[:limit]
	}
	return d.meta
}

func (d *delegate) NotifyMsg(b []byte) {
	emit("message", map[string]any{"data": string(b), "dataHex": hex.EncodeToString(b)})
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}

func (d *delegate) LocalState(join bool) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.userState
}

func (d *delegate) MergeRemoteState(b []byte, join bool) {
	emit("remote-state", map[string]any{"data": string(b), "dataHex": hex.EncodeToString(b), "join": join})
}

type userBroadcast []byte

func (b userBroadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b userBroadcast) Message() []byte                       { return b }
func (b userBroadcast) Finished()                             {}

type command struct {
	Cmd       string   `json:"cmd"`
	Addrs     []string `json:"addrs"`
	Meta      *string  `json:"meta"`
	Node      string   `json:"node"`
	Data      string   `json:"data"`
	Reliable  bool     `json:"reliable"`
	TimeoutMs int      `json:"timeoutMs"`
}

// optionalBytes is nil for "", so an agent without meta puts nil meta on the wire, as a memberlist without a Delegate
// (MetalLB's speaker) does.
func optionalBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func splitList(s string) []string {
	var list []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}

func main() {
	name := flag.String("name", "", "node name (MetalLB: the Node's name); required")
	bind := flag.String("bind", "0.0.0.0", "bind address (MetalLB: the pod IP)")
	port := flag.Int("port", 7946, "bind and advertise port (MetalLB: --ml-bindport); 0 picks one")
	advertise := flag.String("advertise", "", "advertise address (default: what memberlist derives from -bind)")
	secret := flag.String("secret", "", "MetalLB memberlist secret (the Secret's secretkey value); empty: no encryption")
	extra := flag.String("extra-secrets", "", "comma-separated further secrets installed in the keyring (key rotation)")
	label := flag.String("label", "", "memberlist label (packet and stream label header; empty: none, as MetalLB)")
	meta := flag.String("meta", "", "initial node meta")
	userState := flag.String("user-state", "", "push-pull user state this member sends")
	join := flag.String("join", "", "comma-separated host:port list to join at start")
	compression := flag.Bool("compression", true, "EnableCompression (LAN default true)")
	record := flag.String("record", "", "append every packet and stream chunk, sent and received, to this file as JSON lines")
	probeInterval := flag.Duration("probe-interval", 0, "override ProbeInterval (default: LAN 1s)")
	probeTimeout := flag.Duration("probe-timeout", 0, "override ProbeTimeout (default: LAN 500ms)")
	pushPull := flag.Duration("push-pull-interval", 0, "override PushPullInterval (default: LAN 30s)")
	verbose := flag.Bool("v", false, "memberlist's own log on stderr (default: discarded)")
	flag.Parse()
	if *name == "" {
		fmt.Fprintln(os.Stderr, "memberlist-agent: -name is required")
		os.Exit(2)
	}

	cfg := memberlist.DefaultLANConfig()
	cfg.Name = *name
	cfg.BindAddr = *bind
	cfg.BindPort = *port
	cfg.AdvertisePort = *port
	cfg.AdvertiseAddr = *advertise
	cfg.Label = *label
	cfg.EnableCompression = *compression
	if *probeInterval > 0 {
		cfg.ProbeInterval = *probeInterval
	}
	if *probeTimeout > 0 {
		cfg.ProbeTimeout = *probeTimeout
	}
	if *pushPull > 0 {
		cfg.PushPullInterval = *pushPull
	}
	if *verbose {
		cfg.LogOutput = os.Stderr
	} else {
		cfg.LogOutput = io.Discard
	}
	if *secret != "" {
		keys := [][]byte{metallbKey(*secret)}
		for _, s := range splitList(*extra) {
			keys = append(keys, metallbKey(s))
		}
		ring, err := memberlist.NewKeyring(keys, keys[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "memberlist-agent: keyring:", err)
			os.Exit(2)
		}
		cfg.Keyring = ring
		cfg.SecretKey = keys[0]
	}

	var rec *recorder
	if *record != "" {
		var err error
		rec, err = openRecorder(*record)
		if err != nil {
			fmt.Fprintln(os.Stderr, "memberlist-agent:", err)
			os.Exit(2)
		}
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{cfg.BindAddr},
			BindPort:  cfg.BindPort,
			Logger:    nil,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "memberlist-agent: transport:", err)
			os.Exit(1)
		}
		if cfg.BindPort == 0 {
			cfg.BindPort = nt.GetAutoBindPort()
			cfg.AdvertisePort = cfg.BindPort
		}
		cfg.Transport = rec.wrap(nt)
	}

	d := &delegate{meta: optionalBytes(*meta), userState: optionalBytes(*userState)}
	cfg.Delegate = d
	cfg.Events = events{}

	list, err := memberlist.Create(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "memberlist-agent: create:", err)
		os.Exit(1)
	}
	d.queue = &memberlist.TransmitLimitedQueue{NumNodes: list.NumMembers, RetransmitMult: cfg.RetransmitMult}
	self := list.LocalNode()
	emit("ready", map[string]any{"node": self.Name, "addr": self.Addr.String(), "port": self.Port,
		"pid": os.Getpid(), "encrypted": *secret != "", "label": *label})

	if addrs := splitList(*join); len(addrs) > 0 {
		n, err := list.Join(addrs)
		fields := map[string]any{"n": n}
		if err != nil {
			fields["error"] = err.Error()
		}
		emit("joined", fields)
	}

	var leaveOnce sync.Once
	leave := func(timeout time.Duration) {
		leaveOnce.Do(func() {
			fields := map[string]any{}
			if err := list.Leave(timeout); err != nil {
				fields["error"] = err.Error()
			}
			list.Shutdown()
			emit("left", fields)
			if rec != nil {
				rec.close()
			}
			os.Exit(0)
		})
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		leave(time.Second)
	}()

	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			continue
		}
		var c command
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			emit("error", map[string]any{"error": "bad command: " + err.Error()})
			continue
		}
		run(list, d, c, leave)
	}
	// stdin closed: keep running until a signal (a test may close our stdin without meaning "leave").
	select {}
}

func run(list *memberlist.Memberlist, d *delegate, c command, leave func(time.Duration)) {
	timeout := time.Duration(c.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = time.Second
	}
	switch c.Cmd {
	case "join":
		n, err := list.Join(c.Addrs)
		fields := map[string]any{"n": n}
		if err != nil {
			fields["error"] = err.Error()
		}
		emit("joined", fields)
	case "members":
		var members []map[string]any
		for _, n := range list.Members() {
			members = append(members, nodeFields(n))
		}
		emit("members", map[string]any{"members": members})
	case "meta":
		if c.Meta == nil {
			emit("error", map[string]any{"error": "meta: missing \"meta\""})
			return
		}
		d.mu.Lock()
		d.meta = optionalBytes(*c.Meta)
		d.mu.Unlock()
		fields := map[string]any{}
		if err := list.UpdateNode(timeout); err != nil {
			fields["error"] = err.Error()
		}
		emit("meta-set", fields)
	case "send":
		var target *memberlist.Node
		for _, n := range list.Members() {
			if n.Name == c.Node {
				target = n
			}
		}
		if target == nil {
			emit("error", map[string]any{"error": "send: no member " + strconv.Quote(c.Node)})
			return
		}
		var err error
		if c.Reliable {
			err = list.SendReliable(target, []byte(c.Data))
		} else {
			err = list.SendBestEffort(target, []byte(c.Data))
		}
		fields := map[string]any{}
		if err != nil {
			fields["error"] = err.Error()
		}
		emit("sent", fields)
	case "broadcast":
		d.queue.QueueBroadcast(userBroadcast(c.Data))
		emit("queued", nil)
	case "leave":
		leave(timeout)
	default:
		emit("error", map[string]any{"error": "unknown command " + strconv.Quote(c.Cmd)})
	}
}

// recorder appends wire bytes to a file as JSON lines:
// {"dir":"out"|"in","kind":"packet"|"stream","conn":N,"peer":"ip:port","hex":"..."}.
type recorder struct {
	mu   sync.Mutex
	f    *os.File
	next int
}

func openRecorder(path string) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return &recorder{f: f}, nil
}

func (r *recorder) write(dir, kind string, conn int, peer string, b []byte) {
	line, _ := json.Marshal(map[string]any{"dir": dir, "kind": kind, "conn": conn, "peer": peer,
		"t": time.Now().UnixMilli(), "hex": hex.EncodeToString(b)})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.f.Write(append(line, '\n'))
}

func (r *recorder) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.f.Close()
}

func (r *recorder) connID() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	return r.next
}

// recordingTransport sits under memberlist's label wrapper, so it sees exactly the bytes on the wire.
type recordingTransport struct {
	*memberlist.NetTransport
	rec     *recorder
	packets chan *memberlist.Packet
	streams chan net.Conn
}

func (r *recorder) wrap(nt *memberlist.NetTransport) *recordingTransport {
	t := &recordingTransport{NetTransport: nt, rec: r, packets: make(chan *memberlist.Packet), streams: make(chan net.Conn)}
	go func() {
		for p := range nt.PacketCh() {
			r.write("in", "packet", 0, p.From.String(), p.Buf)
			t.packets <- p
		}
	}()
	go func() {
		for c := range nt.StreamCh() {
			t.streams <- &recordingConn{Conn: c, rec: r, id: r.connID()}
		}
	}()
	return t
}

func (t *recordingTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }
func (t *recordingTransport) StreamCh() <-chan net.Conn           { return t.streams }

func (t *recordingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	t.rec.write("out", "packet", 0, addr, b)
	return t.NetTransport.WriteTo(b, addr)
}

func (t *recordingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

func (t *recordingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := t.NetTransport.DialTimeout(addr, timeout)
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, rec: t.rec, id: t.rec.connID()}, nil
}

func (t *recordingTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

type recordingConn struct {
	net.Conn
	rec *recorder
	id  int
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.rec.write("in", "stream", c.id, c.RemoteAddr().String(), b[:n])
	}
	return n, err
}

func (c *recordingConn) Write(b []byte) (int, error) {
	c.rec.write("out", "stream", c.id, c.RemoteAddr().String(), b)
	return c.Conn.Write(b)
}
