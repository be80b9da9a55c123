package grpcbackend

// grpc-go's outlier ejection (the outlier_detection_experimental balancer,
// gRFC A50) is registered only by its xDS package; it is imported for that
// alone, so that outlier_detection in the config is grpc-go's own
// balancer rather than one written here. Nothing else of xDS is used: no
// target here has the xds:/// scheme.
import _ "google.golang.org/grpc/xds"
