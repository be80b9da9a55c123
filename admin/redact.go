package admin

import (
	"fmt"
	"sort"
	"strings"

	"github.com/portico-gw/portico/config"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Redacted replaces a secret's value.
const Redacted = "[redacted]"

// Redact renders a config as the file's keys (snake_case) with every
// secret replaced by Redacted, and lists the key paths it redacted. A
// secret is:
//   - a field marked [debug_redact = true];
//   - a string field whose name says it is one (…password, …secret,
//     …token, …credentials, api_key; not the …_file fields that name where
//     a secret is kept);
//   - every value of a set_metadata map (static metadata sent to backends:
//     typically their credentials);
//   - the user info of any URL (https://user:xxxxx@host; a user name
//     without a password, often a token, as https://xxxxx@host).
//
// The config's secrets proper live in files (admin.token_file, keys_file,
// password_file, key_file); only their paths are in the config.
func Redact(cfg proto.Message) (*structpb.Struct, []string, error) {
	c := proto.Clone(cfg)
	var paths []string
	redactMessage(c.ProtoReflect(), "", &paths)
	sort.Strings(paths)
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(c)
	if err != nil {
		return nil, nil, err
	}
	st := &structpb.Struct{}
	if err := protojson.Unmarshal(b, st); err != nil {
		return nil, nil, err
	}
	return st, paths, nil
}

func redactMessage(m protoreflect.Message, at string, paths *[]string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := string(fd.Name())
		if at != "" {
			path = at + "." + path
		}
		switch {
		case fd.IsMap():
			mp := v.Map()
			all := fd.Name() == "set_metadata" || isSecretField(fd)
			var keys []protoreflect.MapKey
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				kp := fmt.Sprintf("%s[%q]", path, k.String())
				switch vd := fd.MapValue(); {
				case vd.Kind() == protoreflect.MessageKind:
					redactMessage(mp.Get(k).Message(), kp, paths)
				case vd.Kind() == protoreflect.StringKind && all:
					mp.Set(k, protoreflect.ValueOfString(Redacted))
					*paths = append(*paths, kp)
				case vd.Kind() == protoreflect.StringKind:
					if s, ok := redactURL(mp.Get(k).String()); ok {
						mp.Set(k, protoreflect.ValueOfString(s))
						*paths = append(*paths, kp)
					}
				}
			}
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				ip := fmt.Sprintf("%s[%d]", path, i)
				switch {
				case fd.Kind() == protoreflect.MessageKind:
					redactMessage(l.Get(i).Message(), ip, paths)
				case fd.Kind() == protoreflect.StringKind && isSecretField(fd):
					l.Set(i, protoreflect.ValueOfString(Redacted))
					*paths = append(*paths, ip)
				case fd.Kind() == protoreflect.StringKind:
					if s, ok := redactURL(l.Get(i).String()); ok {
						l.Set(i, protoreflect.ValueOfString(s))
						*paths = append(*paths, ip)
					}
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if isSecretField(fd) {
				m.Clear(fd)
				*paths = append(*paths, path)
				return true
			}
			redactMessage(v.Message(), path, paths)
		case fd.Kind() == protoreflect.StringKind:
			if isSecretField(fd) {
				m.Set(fd, protoreflect.ValueOfString(Redacted))
				*paths = append(*paths, path)
			} else if s, ok := redactURL(v.String()); ok {
				m.Set(fd, protoreflect.ValueOfString(s))
				*paths = append(*paths, path)
			}
		case isSecretField(fd):
			m.Clear(fd)
			*paths = append(*paths, path)
		}
		return true
	})
}

// isSecretField reports a field that holds a secret itself (not the name
// of a file holding one).
func isSecretField(fd protoreflect.FieldDescriptor) bool {
	if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDebugRedact() {
		return true
	}
	name := string(fd.Name())
	if strings.HasSuffix(name, "_file") || strings.HasSuffix(name, "_path") {
		return false
	}
	for _, s := range []string{"password", "secret", "token", "credentials"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return name == "api_key" && fd.Kind() == protoreflect.StringKind
}

// redactURL hides the user info of the URLs in s (config.RedactURLs, the
// same function config errors and logs use) and reports whether there was
// any.
func redactURL(s string) (string, bool) {
	r := config.RedactURLs(s)
	return r, r != s
}
