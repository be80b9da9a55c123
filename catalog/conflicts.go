package catalog

// Route conflicts. grpc-gateway's ServeMux puts each newly registered
// handler in front of the others and serves the first that matches, so of
// two identical routes the one registered last wins; its generated code
// registers services in the order the program calls them, methods in their
// declared order, and a rule's additional bindings after its main one.
// Portico follows the same order with apis[] and services[] standing for the
// program's calls, so a config listing services in the order a grpc-gateway
// program registered them serves the same method on every route.
//
// "Identical" is the router's notion: the same HTTP method and the same
// template once variable names and braces are erased (Template.Shape), that
// is, two templates that match exactly the same paths.

// resolveConflicts drops every binding that a later one with the same HTTP
// method and shape hides (see New).
func (b *builder) resolveConflicts() {
	last := map[string]*Binding{}
	for _, bd := range b.bindings {
		for _, host := range hostKeys(bd.Method) {
			b.resolveConflict(last, host+" "+bd.HTTPMethod+" "+bd.Template.Shape(), bd)
		}
	}
}

// resolveConflict drops the binding that bd hides under key (host, HTTP
// method and shape), if any: APIs on different hosts may serve the same
// route.
func (b *builder) resolveConflict(last map[string]*Binding, key string, bd *Binding) {
	if prev, ok := last[key]; ok && prev != bd {
		b.drop(prev)
		b.warn(bd.Origin.Errorf("%s %s of method %s (%s) and %s %s of method %s (%s) are the same route; "+
			"the one exposed later, %s, is served, as grpc-gateway does",
			bd.HTTPMethod, bd.Template.Raw, bd.Method.desc.FullName(), bd.Origin.Desc,
			prev.HTTPMethod, prev.Template.Raw, prev.Method.desc.FullName(), prev.Origin.Desc,
			bd.Method.desc.FullName()))
	}
	last[key] = bd
}

// drop removes a binding from its method.
func (b *builder) drop(bd *Binding) {
	m := bd.Method
	for i, x := range m.bindings {
		if x == bd {
			m.bindings = append(m.bindings[:i:i], m.bindings[i+1:]...)
			return
		}
	}
}
