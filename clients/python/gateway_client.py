#!/usr/bin/env python3
"""Call the Livepeer gateway's gRPC API (livepeer.gateway.v1.GatewayService) from Python.

A small, readable example: it asks the gateway what the network offers, where to send work for one
capability, and then sends one BYOC job through the gateway. It prints one JSON object with what came back,
or exits non-zero with the gRPC status code and message.

    python3 gateway_client.py 127.0.0.1:9935 --capability depth

Needs grpcio and protobuf (Debian/Ubuntu: apt-get install python3-grpcio python3-grpc-tools python3-pkg-resources;
elsewhere: pip install grpcio grpcio-tools). The Python stubs are generated from the repository's .proto files:
pass a directory holding already generated stubs with --stubs, or let the script generate them into a temporary
directory with grpc_tools.protoc (see README.md).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

PROTO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto"))
PROTO_FILES = ["livepeer/gateway/v1/gateway.proto", "net/lp_rpc.proto"]


def generate_stubs(out_dir):
    """Run grpc_tools.protoc (with this Python) to write gateway_pb2.py and gateway_pb2_grpc.py into out_dir."""
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I" + PROTO_ROOT,
               "--python_out=" + out_dir, "--grpc_python_out=" + out_dir] + PROTO_FILES
    subprocess.run(command, check=True)


def main():
    parser = argparse.ArgumentParser(description="Call the Livepeer gateway's gRPC API and print what came back as JSON.")
    parser.add_argument("address", help="gateway API address, host:port (plaintext HTTP/2), e.g. 127.0.0.1:9935")
    parser.add_argument("--capability", default="depth", help="capability to route and to send the job to (default: depth)")
    parser.add_argument("--body", default="hello", help="job body, sent as text/plain (default: hello)")
    parser.add_argument("--stubs", help="directory with the generated stubs; generated into a temporary directory when omitted")
    parser.add_argument("--deadline", type=float, default=60.0, help="deadline of each call in seconds (default: 60)")
    args = parser.parse_args()

    stubs_dir = args.stubs
    temp_dir = None
    if stubs_dir is None:
        temp_dir = tempfile.mkdtemp(prefix="gateway-stubs-")
        generate_stubs(temp_dir)
        stubs_dir = temp_dir
    # The generated modules import each other as "livepeer.gateway.v1.gateway_pb2" and "net.lp_rpc_pb2".
    sys.path.insert(0, stubs_dir)
    try:
        import grpc
        from livepeer.gateway.v1 import gateway_pb2, gateway_pb2_grpc

        # "http://127.0.0.1:9935" and "127.0.0.1:9935" both work.
        target = args.address.split("://", 1)[-1].rstrip("/")
        try:
            with grpc.insecure_channel(target) as channel:
                gateway = gateway_pb2_grpc.GatewayServiceStub(channel)

                # 1. Every orchestrator the gateway knows, with what it offers.
                network = gateway.GetNetworkCapabilities(gateway_pb2.GetNetworkCapabilitiesRequest(), timeout=args.deadline)

                # 2. Where to send one request for the capability: ranked candidates with their prices.
                route = gateway.Route(gateway_pb2.RouteRequest(capability=args.capability, count=3), timeout=args.deadline)

                # 3. A BYOC job: the gateway picks an orchestrator, pays it, and fails over when one fails.
                job = gateway_pb2.Job(
                    capability=args.capability,
                    path="run",
                    body=args.body.encode("utf-8"),
                    content_type="text/plain",
                    timeout_seconds=30,
                )
                answer = gateway.SubmitJob(gateway_pb2.SubmitJobRequest(job=job), timeout=args.deadline)
        except grpc.RpcError as error:
            # Every failure of a call is a grpc.RpcError carrying the status code and the gateway's message.
            print("gRPC error: %s: %s" % (error.code().name, error.details()), file=sys.stderr)
            return 1

        first = route.candidates[0] if route.candidates else None
        print(json.dumps({
            "orchestrators": len(network.orchestrators),
            "route": {
                "route_id": route.route_id,
                "candidates": len(route.candidates),
                "first_candidate_uri": first.orchestrator_uri if first else None,
                "first_candidate_orch_uri": first.orch_uri if first else None,
                "summary": route.summary,
            },
            "job": {
                "status": answer.head.status,
                "orchestrator_uri": answer.head.orchestrator_uri,
                "content_type": answer.head.headers.get("content-type", ""),
                "attempts": len(answer.head.attempts),
                "body": answer.body.decode("utf-8", errors="replace"),
            },
        }))
        return 0
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
