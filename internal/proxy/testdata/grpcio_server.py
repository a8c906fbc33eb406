"""A gRPC server on grpcio (gRPC C-core) for the proxy's tests, without generated code.

Serves test.Echo/Echo (answers b"echo:" + the request's bytes) and test.Echo/Fail (fails with
PERMISSION_DENIED "denied" before sending anything: a trailers-only answer) on 127.0.0.1, prints
the port it listens on as its first line and serves until its standard input ends.
"""

import sys
from concurrent import futures

import grpc


def echo(request, context):
    return b"echo:" + request


def fail(request, context):
    context.abort(grpc.StatusCode.PERMISSION_DENIED, "denied")


def main():
    # No (de)serializers: the methods take and return the messages' bytes as they are.
    handler = grpc.method_handlers_generic_handler("test.Echo", {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    sys.stdin.read()
    server.stop(None).wait()


if __name__ == "__main__":
    main()
