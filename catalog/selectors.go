package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/portico-gw/portico/config"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// findService resolves an exposed service's name, with a "did you mean"
// hint when it is not found.
func (b *builder) findService(name string) (protoreflect.ServiceDescriptor, error) {
	d, err := b.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("service %q not found in the descriptors%s", name, config.DidYouMean(name, b.names(serviceNames)))
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%q is %s, not a service", name, kindOf(d))
	}
	return sd, nil
}

// checkUnusedRules reports the rules no exposed method used (see New).
func (b *builder) checkUnusedRules() {
	var unused []string
	for sel := range b.opts.Rules {
		if !b.usedRules[sel] {
			unused = append(unused, sel)
		}
	}
	sort.Strings(unused)
	for _, sel := range unused {
		r := b.opts.Rules[sel]
		d, err := b.files.FindDescriptorByName(protoreflect.FullName(sel))
		switch {
		case err != nil:
			b.errs.addErr(r.errorAt(r.HTTP, "selector %q names no method in the descriptors%s", sel, config.DidYouMean(sel, b.names(methodNames))))
		case isMethod(d):
			b.warn(r.errorAt(r.HTTP, "selector %q names a method of %s, a service that no apis entry exposes: the rule is ignored", sel, d.Parent().FullName()))
		default:
			b.errs.addErr(r.errorAt(r.HTTP, "selector %q names %s, not a method", sel, kindOf(d)))
		}
	}
}

func isMethod(d protoreflect.Descriptor) bool {
	_, ok := d.(protoreflect.MethodDescriptor)
	return ok
}

// kindOf says what d is, for an error.
func kindOf(d protoreflect.Descriptor) string {
	switch d.(type) {
	case protoreflect.ServiceDescriptor:
		return "a service"
	case protoreflect.MessageDescriptor:
		return "a message"
	case protoreflect.EnumDescriptor:
		return "an enum"
	case protoreflect.FieldDescriptor:
		return "a field"
	}
	return "something"
}

const (
	serviceNames = iota
	methodNames
)

// names lists the full names of every service (or method) in the
// descriptors, for "did you mean" hints.
func (b *builder) names(kind int) []string {
	var out []string
	b.files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		svcs := fd.Services()
		for i := 0; i < svcs.Len(); i++ {
			sd := svcs.Get(i)
			if kind == serviceNames {
				out = append(out, string(sd.FullName()))
				continue
			}
			for j := 0; j < sd.Methods().Len(); j++ {
				out = append(out, string(sd.Methods().Get(j).FullName()))
			}
		}
		return true
	})
	return out
}

// MethodSelector reads a method selector (apis[].methods[].selector): a
// method's full name, package.Service.Method, or its gRPC path,
// /package.Service/Method (grpcurl's package.Service/Method too). It is
// the one reading of a selector every policy kind uses, so a selector
// written either way means the same method everywhere. It returns the
// method's full name, or why the text is not a selector.
func MethodSelector(sel string) (protoreflect.FullName, error) {
	s := sel
	path := strings.HasPrefix(s, "/")
	if path {
		s = s[1:]
	}
	if svc, m, ok := strings.Cut(s, "/"); ok {
		s = svc + "." + m
	} else if path {
		s = "" // "/pkg.Svc.Method" is neither form
	}
	name := protoreflect.FullName(s)
	if !name.IsValid() || name.Parent() == "" {
		return "", fmt.Errorf("%q is not a method selector (want package.Service.Method or /package.Service/Method)", sel)
	}
	return name, nil
}

// APIMethod returns the exposed method a selector of an API names: one of
// the methods of services (the API's). An error says why there is none,
// with the closest method of the API as a hint.
func (c *Catalog) APIMethod(services []string, sel string) (*Method, error) {
	name, err := MethodSelector(sel)
	if err != nil {
		return nil, err
	}
	if slices.Contains(services, string(name.Parent())) {
		if m := c.methods["/"+string(name.Parent())+"/"+string(name.Name())]; m != nil {
			return m, nil
		}
	}
	var known []string
	for _, m := range c.methods {
		if slices.Contains(services, string(m.desc.Parent().FullName())) {
			known = append(known, string(m.desc.FullName()))
		}
	}
	sort.Strings(known)
	return nil, fmt.Errorf("%q names no exposed method of this API (services %s)%s",
		sel, strings.Join(services, ", "), config.DidYouMean(string(name), known))
}
