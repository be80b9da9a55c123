package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Import paths the benchmark builds and checks.
const (
	porticoPkg   = "./cmd/portico"
	gatewayPkg   = "./bench/gateway"
	referencePkg = "./bench/reference"
	floorPkg     = "./bench/floor"
	backendPkg   = "./examples/bookstore/cmd/bookstore"
	inventoryPkg = "github.com/portico-gw/portico/gen/example/inventory/v1"
)

// binaries are the built executables.
type binaries struct {
	portico, reference, backend, floor string
	// gateway is Portico without the APIs' generated code (bench/gateway).
	gateway string
}

// moduleRoot returns the directory of the main module (where go.mod is).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := goCmd(ctx, "", "env", "GOMOD")
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(out)
	if mod == "" || mod == "/dev/null" {
		return "", fmt.Errorf("not inside the portico module (go env GOMOD is %q); run from the repository", mod)
	}
	return filepath.Dir(mod), nil
}

// build builds the gateways, the reference, the floor and the backend into
// dir with one go build (they link in parallel).
func build(ctx context.Context, root, dir string) (binaries, error) {
	_, err := goCmd(ctx, root, "build", "-o", dir+string(filepath.Separator), porticoPkg, gatewayPkg, referencePkg, floorPkg, backendPkg)
	if err != nil {
		return binaries{}, err
	}
	return binaries{
		portico:   filepath.Join(dir, "portico"),
		gateway:   filepath.Join(dir, "gateway"),
		reference: filepath.Join(dir, "reference"),
		backend:   filepath.Join(dir, "bookstore"),
		floor:     filepath.Join(dir, "floor"),
	}, nil
}

// checkNoGenerated fails if bench/gateway links the generated code of the
// APIs it serves: the headline benchmark is speed without generated code.
func checkNoGenerated(ctx context.Context, root string) error {
	out, err := goCmd(ctx, root, "list", "-deps", gatewayPkg)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "github.com/portico-gw/portico/gen/example/") {
			return fmt.Errorf("%s links %s: the benchmark must serve the APIs from descriptors only", gatewayPkg, strings.TrimSpace(line))
		}
	}
	return nil
}

// linksInventory reports whether cmd/portico links the inventory's
// generated package, so that its compiled-in descriptors know the
// InventoryService without a descriptor set.
func linksInventory(ctx context.Context, root string) (bool, error) {
	out, err := goCmd(ctx, root, "list", "-deps", porticoPkg)
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == inventoryPkg {
			return true, nil
		}
	}
	return false, nil
}

// goCmd runs the go command in dir and returns its standard output.
func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}
