package gen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// The world of the scenario: the default OpenShift ingress on AWS. A Classic
// ELB (TCP listeners, PROXY protocol v1) in two public subnets sends to a
// NodePort on the workers; on the nodes that run router-default pods the
// NodePort is DNAT'd to the router pod, which proxies to the backend pods.
// The cluster uses the Cisco ACI CNI (VXLAN between nodes, OpFlex drop log).

const (
	account     = "123456789012"
	region      = "ap-northeast-1"
	httpNode    = 31790 // router-default NodePort for http
	httpsNode   = 30443 // router-default NodePort for https
	vxlanPort   = 8472
	ingressHost = "apps.ocp4.example.com"
)

type subnet struct {
	ID, AZ, Name string
	CIDR         netip.Prefix
	NACL         string
}

type eni struct {
	ID, Description, Subnet, AZ, Instance, Requester, MAC string
	IP, PublicIP                                          netip.Addr
	Groups                                                []string
	Type                                                  string
}

type node struct {
	Name, Role, InstanceID string
	IP                     netip.Addr
	ENI                    *eni
	PodCIDR                netip.Prefix
	Link                   int // capture link type, 0 when not captured
	Ifaces                 map[string]*iface
	Router                 *pod
	ipID                   uint16
}

type pod struct {
	Namespace, Name, Ready, Status, Restarts, Age string
	IP                                            netip.Addr
	Node                                          *node
	Port                                          uint16
	Veth                                          *iface
	Denied                                        bool // a deny-all NetworkPolicy selects it
	HostNetwork                                   bool
}

type world struct {
	rng      *rand.Rand
	vpc      string
	vpcCIDR  netip.Prefix
	subnets  []*subnet
	elbName  string
	lb       string // classic, alb or nlb
	elbENIs  []*eni
	elbPubIP []netip.Addr
	nodes    []*node
	workers  []*node // nodes whose ENIs the ELB sends to
	routers  []*pod
	pods     []*pod
	backends map[string][]*pod // route host -> endpoints
	sgELB    string
	sgWorker string
	sgMaster string
	aclPub   string
	aclPriv  string
	flowLog  string // fl- id of the VPC flow log (default format)
	flowLog5 string // fl- id of the v5 flow log on the workers
}

func hexID(r *rand.Rand, n int) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hexd[r.IntN(16)]
	}
	return string(b)
}

func macFor(r *rand.Rand) string {
	return fmt.Sprintf("06:%02x:%02x:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))
}

func macBytes(s string) [6]byte {
	var b [6]byte
	fmt.Sscanf(s, "%02x:%02x:%02x:%02x:%02x:%02x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5])
	return b
}

func nodeName(ip netip.Addr) string {
	return "ip-" + strings.ReplaceAll(ip.String(), ".", "-") + "." + region + ".compute.internal"
}

// podName is a deployment pod name: NAME-REPLICASET-SUFFIX.
func podName(r *rand.Rand, name string) string {
	const alnum = "bcdfghjklmnpqrstvwxz2456789"
	s := make([]byte, 5)
	for i := range s {
		s[i] = alnum[r.IntN(len(alnum))]
	}
	return fmt.Sprintf("%s-%s-%s", name, hexID(r, 10), s)
}

// setLB makes the load balancer an ALB or an NLB: their names, as the
// access logs and the ENI descriptions spell them. Classic leaves the world
// as newWorld made it, byte for byte.
func (w *world) setLB(kind string) {
	w.lb = kind
	switch kind {
	case "alb":
		w.elbName = "app/k8s-openshif-router-" + hexID(w.rng, 10) + "/" + hexID(w.rng, 16)
	case "nlb":
		w.elbName = "net/k8s-openshif-router-" + hexID(w.rng, 10) + "/" + hexID(w.rng, 16)
	default:
		return
	}
	for _, e := range w.elbENIs {
		e.Description = "ELB " + w.elbName
		if kind == "nlb" {
			e.Type = "network_load_balancer"
		}
	}
}

func newWorld(seed uint64) *world {
	r := rand.New(rand.NewPCG(seed, 0x6c3463617365))
	w := &world{rng: r, backends: map[string][]*pod{}}
	w.vpc = "vpc-0" + hexID(r, 16)
	w.vpcCIDR = netip.MustParsePrefix("10.0.0.0/16")
	w.aclPub = "acl-0" + hexID(r, 16)
	w.aclPriv = "acl-0" + hexID(r, 16)
	w.subnets = []*subnet{
		{ID: "subnet-0" + hexID(r, 16), AZ: region + "a", Name: "ocp4-public-" + region + "a", CIDR: netip.MustParsePrefix("10.0.0.0/20"), NACL: w.aclPub},
		{ID: "subnet-0" + hexID(r, 16), AZ: region + "c", Name: "ocp4-public-" + region + "c", CIDR: netip.MustParsePrefix("10.0.16.0/20"), NACL: w.aclPub},
		{ID: "subnet-0" + hexID(r, 16), AZ: region + "a", Name: "ocp4-private-" + region + "a", CIDR: netip.MustParsePrefix("10.0.128.0/19"), NACL: w.aclPriv},
		{ID: "subnet-0" + hexID(r, 16), AZ: region + "c", Name: "ocp4-private-" + region + "c", CIDR: netip.MustParsePrefix("10.0.192.0/19"), NACL: w.aclPriv},
	}
	w.sgELB = "sg-0" + hexID(r, 16)
	w.sgWorker = "sg-0" + hexID(r, 16)
	w.sgMaster = "sg-0" + hexID(r, 16)
	w.flowLog = "fl-0" + hexID(r, 16)
	w.flowLog5 = "fl-0" + hexID(r, 16)
	w.elbName = "a" + hexID(r, 31)
	for i, ip := range []string{"10.0.14.231", "10.0.29.97"} {
		sn := w.subnets[i]
		w.elbENIs = append(w.elbENIs, &eni{
			ID: "eni-0" + hexID(r, 16), Description: "ELB " + w.elbName, Subnet: sn.ID, AZ: sn.AZ,
			Requester: "amazon-elb", MAC: macFor(r), IP: netip.MustParseAddr(ip), Groups: []string{w.sgELB}, Type: "interface",
		})
	}
	w.elbPubIP = []netip.Addr{netip.MustParseAddr("52.199.57.168"), netip.MustParseAddr("54.65.103.27")}
	for i, e := range w.elbENIs {
		e.PublicIP = w.elbPubIP[i]
	}

	mk := func(ip, role string, sn *subnet, podCIDR string, link int) *node {
		a := netip.MustParseAddr(ip)
		n := &node{Name: nodeName(a), Role: role, InstanceID: "i-0" + hexID(r, 16), IP: a, Link: link,
			Ifaces: map[string]*iface{}, ipID: uint16(r.IntN(65536))}
		if podCIDR != "" {
			n.PodCIDR = netip.MustParsePrefix(podCIDR)
		}
		groups := []string{w.sgMaster}
		if role == "worker" {
			groups = []string{w.sgWorker}
		}
		n.ENI = &eni{ID: "eni-0" + hexID(r, 16), Description: "", Subnet: sn.ID, AZ: sn.AZ, Instance: n.InstanceID,
			MAC: macFor(r), IP: a, Groups: groups, Type: "interface"}
		n.Ifaces["ens5"] = &iface{name: "ens5", index: 2, mac: macBytes(n.ENI.MAC)}
		n.Ifaces["vxlan_sys_8472"] = &iface{name: "vxlan_sys_8472", index: 5}
		w.nodes = append(w.nodes, n)
		return n
	}
	priv := w.subnets[2:]
	n1 := mk("10.0.134.187", "worker", priv[0], "10.128.2.0/23", linkSLL)
	n2 := mk("10.0.198.72", "worker", priv[1], "10.129.2.0/23", linkSLL2)
	n3 := mk("10.0.150.33", "worker", priv[0], "10.131.0.0/23", 0)
	for _, m := range []string{"10.0.137.12", "10.0.176.90", "10.0.211.44"} {
		sn := priv[0]
		if strings.HasPrefix(m, "10.0.211") {
			sn = priv[1]
		}
		mk(m, "master", sn, "", 0)
	}
	// Workers sit in subnets with MapPublicIpOnLaunch: the internet can
	// reach their ENIs, and scanners do.
	for i, n := range []*node{n1, n2, n3} {
		n.ENI.PublicIP = netip.MustParseAddr([]string{"13.231.44.17", "18.179.92.203", "35.74.12.66"}[i])
	}
	w.workers = []*node{n1, n2, n3}

	vethIndex := uint32(7)
	addPod := func(ns, name string, n *node, ip string, port uint16) *pod {
		p := &pod{Namespace: ns, Name: podName(r, name), Ready: "1/1", Status: "Running", Restarts: "0",
			Age: "4d22h", Node: n, Port: port}
		if ip == "" {
			p.IP, p.HostNetwork = n.IP, true
		} else {
			p.IP = netip.MustParseAddr(ip)
			p.Veth = &iface{name: hexID(r, 15), index: vethIndex}
			vethIndex += 3
			n.Ifaces[p.Veth.name] = p.Veth
		}
		w.pods = append(w.pods, p)
		return p
	}
	rt1 := addPod("openshift-ingress", "router-default", n1, "10.128.2.7", 80)
	rt2 := addPod("openshift-ingress", "router-default", n2, "10.129.2.10", 80)
	rt2.Restarts = "1 (4d20h ago)"
	rt2.Name = strings.Replace(rt2.Name, rt2.Name[len("router-default-"):len("router-default-")+10], rt1.Name[len("router-default-"):len("router-default-")+10], 1)
	n1.Router, n2.Router = rt1, rt2
	w.routers = []*pod{rt1, rt2}
	web1 := addPod("shop", "web", n3, "10.131.0.23", 8080)
	web2 := addPod("shop", "web", n1, "10.128.2.15", 8080)
	web2.Name = strings.Replace(web2.Name, web2.Name[len("web-"):len("web-")+10], web1.Name[len("web-"):len("web-")+10], 1)
	api := addPod("payments", "api", n2, "10.129.2.31", 8080)
	api.Denied = true
	addPod("shop", "cart", n3, "10.131.0.41", 8080)
	for _, n := range w.nodes {
		addPod("aci-containers-system", "aci-containers-host", n, "", 0).Name = "aci-containers-host-" + hexID(r, 5)
		if n.PodCIDR.IsValid() {
			a := n.PodCIDR.Addr().As4()
			a[3] = 5
			addPod("openshift-dns", "dns-default", n, netip.AddrFrom4(a).String(), 5353).Name = "dns-default-" + hexID(r, 5)
		}
	}
	w.backends["shop."+ingressHost] = []*pod{web1, web2}
	w.backends["payments."+ingressHost] = []*pod{api}
	return w
}

// eniFor returns the ENI that owns addr, if any.
func (w *world) eniFor(a netip.Addr) *eni {
	for _, e := range w.elbENIs {
		if e.IP == a {
			return e
		}
	}
	for _, n := range w.nodes {
		if n.IP == a {
			return n.ENI
		}
	}
	return nil
}

func (w *world) subnetByID(id string) *subnet {
	for _, s := range w.subnets {
		if s.ID == id {
			return s
		}
	}
	return nil
}
