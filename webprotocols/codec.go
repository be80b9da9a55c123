package webprotocols

import (
	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"google.golang.org/protobuf/proto"
)

// vanguard reports a message it cannot decode as an internal error (a
// 500); it is the client's: INVALID_ARGUMENT (400). The codecs are
// vanguard's own, with only Unmarshal's error worded.

type jsonCodec struct{ *vanguard.JSONCodec }

func (c jsonCodec) Unmarshal(b []byte, msg proto.Message) error {
	return badInput(c.JSONCodec.Unmarshal(b, msg))
}

type protoCodec struct{ *vanguard.ProtoCodec }

func (c protoCodec) Unmarshal(b []byte, msg proto.Message) error {
	return badInput(c.ProtoCodec.Unmarshal(b, msg))
}

func badInput(err error) error {
	if err == nil {
		return nil
	}
	return connect.NewError(connect.CodeInvalidArgument, err)
}

// codecs are the options that install them.
func codecs() []vanguard.TranscoderOption {
	return []vanguard.TranscoderOption{
		vanguard.WithCodec(func(r vanguard.TypeResolver) vanguard.Codec { return jsonCodec{vanguard.NewJSONCodec(r)} }),
		vanguard.WithCodec(func(r vanguard.TypeResolver) vanguard.Codec { return protoCodec{vanguard.NewProtoCodec(r)} }),
	}
}
