// The benchmark's reference: list every VM (name, UUID, power state, memory,
// CPUs) with govmomi's own client and a ContainerView, as `govc ls`-style
// tools do.  Usage: govmomi-list URL USER PASSWORD; prints the VM count.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
)

func main() {
	u, err := url.Parse(os.Args[1])
	if err != nil {
		panic(err)
	}
	u.User = url.UserPassword(os.Args[2], os.Args[3])
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "govmomi-list:", err)
		os.Exit(1)
	}
	defer c.Logout(ctx)
	m := view.NewManager(c.Client)
	v, err := m.CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		panic(err)
	}
	defer v.Destroy(ctx)
	var vms []mo.VirtualMachine
	err = v.Retrieve(ctx, []string{"VirtualMachine"},
		[]string{"name", "config.uuid", "runtime.powerState", "config.hardware.memoryMB", "config.hardware.numCPU"}, &vms)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(vms))
}
