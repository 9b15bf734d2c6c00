package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// The shapes below follow what `aws ec2 describe-*` prints (PascalCase,
// absent fields omitted), so that they decode into aws-sdk-go-v2's
// ec2.Describe*Output like the real thing.

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type ipRange struct {
	CidrIp      string `json:"CidrIp"`
	Description string `json:"Description,omitempty"`
}

type groupPair struct {
	GroupId string `json:"GroupId"`
	UserId  string `json:"UserId"`
}

type ipPermission struct {
	FromPort         *int        `json:"FromPort,omitempty"`
	IpProtocol       string      `json:"IpProtocol"`
	IpRanges         []ipRange   `json:"IpRanges"`
	Ipv6Ranges       []any       `json:"Ipv6Ranges"`
	PrefixListIds    []any       `json:"PrefixListIds"`
	ToPort           *int        `json:"ToPort,omitempty"`
	UserIdGroupPairs []groupPair `json:"UserIdGroupPairs"`
}

type securityGroup struct {
	Description         string         `json:"Description"`
	GroupName           string         `json:"GroupName"`
	IpPermissions       []ipPermission `json:"IpPermissions"`
	OwnerId             string         `json:"OwnerId"`
	GroupId             string         `json:"GroupId"`
	IpPermissionsEgress []ipPermission `json:"IpPermissionsEgress"`
	Tags                []tag          `json:"Tags,omitempty"`
	VpcId               string         `json:"VpcId"`
}

func perm(proto string, from, to int, cidrs []string, groups []string) ipPermission {
	p := ipPermission{IpProtocol: proto, IpRanges: []ipRange{}, Ipv6Ranges: []any{}, PrefixListIds: []any{}, UserIdGroupPairs: []groupPair{}}
	if proto != "-1" {
		p.FromPort, p.ToPort = &from, &to
	}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, ipRange{CidrIp: c})
	}
	for _, g := range groups {
		p.UserIdGroupPairs = append(p.UserIdGroupPairs, groupPair{GroupId: g, UserId: account})
	}
	return p
}

type portRange struct {
	From int `json:"From"`
	To   int `json:"To"`
}

type naclEntry struct {
	CidrBlock  string     `json:"CidrBlock"`
	Egress     bool       `json:"Egress"`
	PortRange  *portRange `json:"PortRange,omitempty"`
	Protocol   string     `json:"Protocol"`
	RuleAction string     `json:"RuleAction"`
	RuleNumber int        `json:"RuleNumber"`
}

type naclAssoc struct {
	NetworkAclAssociationId string `json:"NetworkAclAssociationId"`
	NetworkAclId            string `json:"NetworkAclId"`
	SubnetId                string `json:"SubnetId"`
}

type networkACL struct {
	Associations []naclAssoc `json:"Associations"`
	Entries      []naclEntry `json:"Entries"`
	IsDefault    bool        `json:"IsDefault"`
	NetworkAclId string      `json:"NetworkAclId"`
	Tags         []tag       `json:"Tags"`
	VpcId        string      `json:"VpcId"`
	OwnerId      string      `json:"OwnerId"`
}

type association struct {
	IpOwnerId     string `json:"IpOwnerId"`
	PublicDnsName string `json:"PublicDnsName"`
	PublicIp      string `json:"PublicIp"`
}

type attachment struct {
	AttachTime          string `json:"AttachTime"`
	AttachmentId        string `json:"AttachmentId"`
	DeleteOnTermination bool   `json:"DeleteOnTermination"`
	DeviceIndex         int    `json:"DeviceIndex"`
	InstanceId          string `json:"InstanceId,omitempty"`
	InstanceOwnerId     string `json:"InstanceOwnerId"`
	Status              string `json:"Status"`
}

type groupRef struct {
	GroupName string `json:"GroupName"`
	GroupId   string `json:"GroupId"`
}

type privateIP struct {
	Association      *association `json:"Association,omitempty"`
	Primary          bool         `json:"Primary"`
	PrivateDnsName   string       `json:"PrivateDnsName"`
	PrivateIpAddress string       `json:"PrivateIpAddress"`
}

type networkInterface struct {
	Association        *association `json:"Association,omitempty"`
	Attachment         attachment   `json:"Attachment"`
	AvailabilityZone   string       `json:"AvailabilityZone"`
	Description        string       `json:"Description"`
	Groups             []groupRef   `json:"Groups"`
	InterfaceType      string       `json:"InterfaceType"`
	Ipv6Addresses      []any        `json:"Ipv6Addresses"`
	MacAddress         string       `json:"MacAddress"`
	NetworkInterfaceId string       `json:"NetworkInterfaceId"`
	OwnerId            string       `json:"OwnerId"`
	PrivateDnsName     string       `json:"PrivateDnsName"`
	PrivateIpAddress   string       `json:"PrivateIpAddress"`
	PrivateIpAddresses []privateIP  `json:"PrivateIpAddresses"`
	RequesterId        string       `json:"RequesterId,omitempty"`
	RequesterManaged   bool         `json:"RequesterManaged"`
	SourceDestCheck    bool         `json:"SourceDestCheck"`
	Status             string       `json:"Status"`
	SubnetId           string       `json:"SubnetId"`
	TagSet             []tag        `json:"TagSet"`
	VpcId              string       `json:"VpcId"`
}

type subnetJSON struct {
	AvailabilityZone        string `json:"AvailabilityZone"`
	AvailabilityZoneId      string `json:"AvailabilityZoneId"`
	AvailableIpAddressCount int    `json:"AvailableIpAddressCount"`
	CidrBlock               string `json:"CidrBlock"`
	DefaultForAz            bool   `json:"DefaultForAz"`
	MapPublicIpOnLaunch     bool   `json:"MapPublicIpOnLaunch"`
	State                   string `json:"State"`
	SubnetId                string `json:"SubnetId"`
	VpcId                   string `json:"VpcId"`
	OwnerId                 string `json:"OwnerId"`
	Tags                    []tag  `json:"Tags"`
}

type flowLogJSON struct {
	CreationTime           string `json:"CreationTime"`
	DeliverLogsStatus      string `json:"DeliverLogsStatus"`
	FlowLogId              string `json:"FlowLogId"`
	FlowLogStatus          string `json:"FlowLogStatus"`
	ResourceId             string `json:"ResourceId"`
	TrafficType            string `json:"TrafficType"`
	LogDestinationType     string `json:"LogDestinationType"`
	LogDestination         string `json:"LogDestination"`
	LogFormat              string `json:"LogFormat"`
	MaxAggregationInterval int    `json:"MaxAggregationInterval"`
}

func (g *generator) writeSnapshots() ([]string, error) {
	w := g.w
	awsDir := filepath.Join(g.o.Out, "aws")
	ocDir := filepath.Join(g.o.Out, "oc")
	for _, d := range []string{awsDir, ocDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var files []string
	out := func(name string, v any) error {
		p := filepath.Join(awsDir, name)
		files = append(files, p)
		return writeJSON(p, v)
	}
	allOut := []ipPermission{perm("-1", 0, 0, []string{"0.0.0.0/0"}, nil)}
	sgs := []securityGroup{
		{Description: "Security group for Kubernetes ELB " + w.elbName + " (openshift-ingress/router-default)",
			GroupName: "k8s-elb-" + w.elbName, OwnerId: account, GroupId: w.sgELB, VpcId: w.vpc,
			IpPermissions: []ipPermission{
				perm("tcp", 80, 80, []string{"0.0.0.0/0"}, nil),
				perm("tcp", 443, 443, []string{"0.0.0.0/0"}, nil),
				perm("icmp", 3, 4, []string{"0.0.0.0/0"}, nil),
			},
			IpPermissionsEgress: allOut,
			Tags:                []tag{{"kubernetes.io/cluster/ocp4-x7k2p", "owned"}}},
		{Description: "ocp4-x7k2p worker security group", GroupName: "ocp4-x7k2p-worker-sg", OwnerId: account, GroupId: w.sgWorker, VpcId: w.vpc,
			IpPermissions: []ipPermission{
				perm("tcp", 22, 22, []string{"10.0.0.0/16"}, nil),
				perm("icmp", -1, -1, []string{"10.0.0.0/16"}, nil),
				perm("tcp", httpNode, httpNode, nil, []string{w.sgELB}),
				perm("tcp", 32663, 32663, nil, []string{w.sgELB}),
				perm("udp", vxlanPort, vxlanPort, nil, []string{w.sgWorker, w.sgMaster}),
				perm("tcp", 10250, 10250, nil, []string{w.sgMaster}),
				perm("tcp", 30000, 32767, nil, []string{w.sgMaster}),
				perm("-1", 0, 0, nil, []string{w.sgWorker}),
			},
			IpPermissionsEgress: allOut,
			Tags:                []tag{{"Name", "ocp4-x7k2p-worker-sg"}}},
		{Description: "ocp4-x7k2p master security group", GroupName: "ocp4-x7k2p-master-sg", OwnerId: account, GroupId: w.sgMaster, VpcId: w.vpc,
			IpPermissions: []ipPermission{
				perm("tcp", 6443, 6443, []string{"10.0.0.0/16"}, nil),
				perm("tcp", 22623, 22623, []string{"10.0.0.0/16"}, nil),
				perm("-1", 0, 0, nil, []string{w.sgMaster, w.sgWorker}),
			},
			IpPermissionsEgress: allOut,
			Tags:                []tag{{"Name", "ocp4-x7k2p-master-sg"}}},
	}
	if err := out("describe-security-groups.json", map[string]any{"SecurityGroups": sgs}); err != nil {
		return nil, err
	}

	var pubAssoc, privAssoc []naclAssoc
	for _, s := range w.subnets {
		a := naclAssoc{NetworkAclAssociationId: "aclassoc-0" + hexID(w.rng, 16), NetworkAclId: s.NACL, SubnetId: s.ID}
		if s.NACL == w.aclPub {
			pubAssoc = append(pubAssoc, a)
		} else {
			privAssoc = append(privAssoc, a)
		}
	}
	allowAll := func(egress bool) []naclEntry {
		return []naclEntry{
			{CidrBlock: "0.0.0.0/0", Egress: egress, Protocol: "-1", RuleAction: "allow", RuleNumber: 100},
			{CidrBlock: "0.0.0.0/0", Egress: egress, Protocol: "-1", RuleAction: "deny", RuleNumber: 32767},
		}
	}
	pubEntries := append([]naclEntry{{CidrBlock: blockedNet.String(), Egress: true, PortRange: &portRange{1024, 65535}, Protocol: "6", RuleAction: "deny", RuleNumber: 90}},
		allowAll(true)...)
	pubEntries = append(pubEntries, allowAll(false)...)
	acls := []networkACL{
		{Associations: pubAssoc, Entries: pubEntries, IsDefault: false, NetworkAclId: w.aclPub,
			Tags: []tag{{"Name", "ocp4-x7k2p-public-nacl"}}, VpcId: w.vpc, OwnerId: account},
		{Associations: privAssoc, Entries: append(allowAll(true), allowAll(false)...), IsDefault: true, NetworkAclId: w.aclPriv,
			Tags: []tag{}, VpcId: w.vpc, OwnerId: account},
	}
	if err := out("describe-network-acls.json", map[string]any{"NetworkAcls": acls}); err != nil {
		return nil, err
	}

	var enis []networkInterface
	sgName := map[string]string{w.sgELB: sgs[0].GroupName, w.sgWorker: sgs[1].GroupName, w.sgMaster: sgs[2].GroupName}
	attach := g.o.Start.Add(-4*24*time.Hour - 22*time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	addENI := func(e *eni) {
		dns := "ip-" + strings.ReplaceAll(e.IP.String(), ".", "-") + "." + region + ".compute.internal"
		ni := networkInterface{
			Attachment: attachment{AttachTime: attach, AttachmentId: "eni-attach-0" + hexID(w.rng, 16), DeleteOnTermination: true,
				InstanceId: e.Instance, InstanceOwnerId: account, Status: "attached"},
			AvailabilityZone: e.AZ, Description: e.Description, InterfaceType: e.Type, Ipv6Addresses: []any{},
			MacAddress: e.MAC, NetworkInterfaceId: e.ID, OwnerId: account, PrivateDnsName: dns, PrivateIpAddress: e.IP.String(),
			RequesterId: e.Requester, RequesterManaged: e.Requester != "", SourceDestCheck: true, Status: "in-use",
			SubnetId: e.Subnet, TagSet: []tag{}, VpcId: w.vpc,
		}
		if e.Requester != "" {
			ni.Attachment.InstanceOwnerId = "amazon-elb"
		}
		for _, gid := range e.Groups {
			ni.Groups = append(ni.Groups, groupRef{GroupName: sgName[gid], GroupId: gid})
		}
		pip := privateIP{Primary: true, PrivateDnsName: dns, PrivateIpAddress: e.IP.String()}
		if e.PublicIP.IsValid() {
			owner := "amazon"
			ni.Association = &association{IpOwnerId: owner, PublicDnsName: "ec2-" + strings.ReplaceAll(e.PublicIP.String(), ".", "-") + "." + region + ".compute.amazonaws.com", PublicIp: e.PublicIP.String()}
			pip.Association = ni.Association
		}
		ni.PrivateIpAddresses = []privateIP{pip}
		enis = append(enis, ni)
	}
	for _, e := range w.elbENIs {
		addENI(e)
	}
	for _, n := range w.nodes {
		addENI(n.ENI)
	}
	if err := out("describe-network-interfaces.json", map[string]any{"NetworkInterfaces": enis}); err != nil {
		return nil, err
	}

	var subs []subnetJSON
	for _, s := range w.subnets {
		subs = append(subs, subnetJSON{AvailabilityZone: s.AZ, AvailabilityZoneId: map[string]string{region + "a": "apne1-az4", region + "c": "apne1-az1"}[s.AZ],
			AvailableIpAddressCount: 4000, CidrBlock: s.CIDR.String(), State: "available", SubnetId: s.ID, VpcId: w.vpc, OwnerId: account,
			MapPublicIpOnLaunch: true, Tags: []tag{{"Name", s.Name}}})
	}
	if err := out("describe-subnets.json", map[string]any{"Subnets": subs}); err != nil {
		return nil, err
	}
	created := g.o.Start.Add(-2 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	fls := []flowLogJSON{{CreationTime: created, DeliverLogsStatus: "SUCCESS", FlowLogId: w.flowLog, FlowLogStatus: "ACTIVE",
		ResourceId: w.vpc, TrafficType: "ALL", LogDestinationType: "s3", LogDestination: "arn:aws:s3:::ocp4-incident-logs",
		LogFormat: g.fwV2.LogFormat(), MaxAggregationInterval: int(g.o.Aggregation / time.Second)}}
	if g.fwV5 != nil {
		fls = append(fls, flowLogJSON{CreationTime: created, DeliverLogsStatus: "SUCCESS", FlowLogId: w.flowLog5, FlowLogStatus: "ACTIVE",
			ResourceId: w.subnets[2].ID, TrafficType: "ALL", LogDestinationType: "s3", LogDestination: "arn:aws:s3:::ocp4-incident-logs",
			LogFormat: g.fwV5.LogFormat(), MaxAggregationInterval: int(g.o.Aggregation / time.Second)})
	}
	if err := out("describe-flow-logs.json", map[string]any{"FlowLogs": fls}); err != nil {
		return nil, err
	}

	// oc get pods -A -o wide, oc get nodes -o wide: kubectl's tabwriter layout.
	pods := append([]*pod(nil), w.pods...)
	sort.SliceStable(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	p := filepath.Join(ocDir, "get-pods-A-o-wide.txt")
	files = append(files, p)
	if err := writeTable(p, "NAMESPACE\tNAME\tREADY\tSTATUS\tRESTARTS\tAGE\tIP\tNODE\tNOMINATED NODE\tREADINESS GATES", func(tw *tabwriter.Writer) {
		for _, x := range pods {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t<none>\t<none>\n", x.Namespace, x.Name, x.Ready, x.Status, x.Restarts, x.Age, x.IP, x.Node.Name)
		}
	}); err != nil {
		return nil, err
	}
	p = filepath.Join(ocDir, "get-nodes-o-wide.txt")
	files = append(files, p)
	if err := writeTable(p, "NAME\tSTATUS\tROLES\tAGE\tVERSION\tINTERNAL-IP\tEXTERNAL-IP\tOS-IMAGE\tKERNEL-VERSION\tCONTAINER-RUNTIME", func(tw *tabwriter.Writer) {
		for _, n := range w.nodes {
			fmt.Fprintf(tw, "%s\tReady\t%s\t4d23h\tv1.20.0+bafe72f\t%s\t<none>\tRed Hat Enterprise Linux CoreOS 47.83.202103251640-0 (Ootpa)\t4.18.0-240.15.1.el8_3.x86_64\tcri-o://1.20.2-4.rhaos4.7.gitc1b3f55.el8\n",
				n.Name, n.Role, n.IP)
		}
	}); err != nil {
		return nil, err
	}
	return files, nil
}

func writeTable(path, header string, rows func(*tabwriter.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(f, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	if err := tw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
