// gRPC server reflection, grpc.reflection.v1 and its older twin v1alpha: lets grpcurl, buf curl, grpcui and Postman
// list the services and fetch their descriptors without a copy of the .proto files. The descriptors come from the
// generated code (each GenFile carries its FileDescriptorProto and its dependencies), so they are always what the
// server actually speaks.
import { fromBinary, toBinary, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  ServerReflection as ServerReflectionV1,
  ServerReflectionRequestSchema as RequestV1Schema,
  ServerReflectionResponseSchema as ResponseV1Schema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1alpha,
  ServerReflectionRequestSchema as RequestV1alphaSchema,
  ServerReflectionResponseSchema as ResponseV1alphaSchema,
  type ServerReflectionRequest as ServerReflectionRequestV1alpha,
  type ServerReflectionResponse as ServerReflectionResponseV1alpha,
} from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** gRPC status codes used in error_response. */
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/** The two reflection services, to list them as served. */
export const REFLECTION_SERVICES: readonly DescService[] = [ServerReflectionV1, ServerReflectionV1alpha];

/**
 * What reflection knows: the served services, every file reachable from them and from the extra files (with all
 * their dependencies), and every fully-qualified symbol those files define.
 */
export class DescriptorIndex {
  readonly services: readonly string[];
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();
  readonly #messages = new Map<string, DescMessage>();
  /** extendee type name → extension number → file defining the extension */
  readonly #extensions = new Map<string, Map<number, DescFile>>();
  readonly #encoded = new Map<string, Uint8Array>();

  constructor(services: readonly DescService[], files: readonly DescFile[] = []) {
    this.services = [...new Set(services.map((service) => service.typeName))];
    for (const service of services) this.#addFile(service.file);
    for (const file of files) this.#addFile(file);
  }

  #addFile(file: DescFile): void {
    if (this.#files.has(file.proto.name)) return;
    this.#files.set(file.proto.name, file);
    for (const dependency of file.dependencies) this.#addFile(dependency);
    const symbol = (name: string): void => {
      if (!this.#symbols.has(name)) this.#symbols.set(name, file);
    };
    const scopeOf = (typeName: string): string => typeName.slice(0, Math.max(typeName.lastIndexOf("."), 0));
    const addEnum = (desc: { typeName: string; values: readonly { name: string }[] }): void => {
      symbol(desc.typeName);
      // Enum values are scoped like siblings of their enum, as in protobuf's own name resolution.
      const scope = scopeOf(desc.typeName);
      for (const value of desc.values) symbol(scope === "" ? value.name : `${scope}.${value.name}`);
    };
    const addExtension = (ext: { typeName: string; number: number; extendee: DescMessage }): void => {
      symbol(ext.typeName);
      let byNumber = this.#extensions.get(ext.extendee.typeName);
      if (!byNumber) this.#extensions.set(ext.extendee.typeName, (byNumber = new Map()));
      if (!byNumber.has(ext.number)) byNumber.set(ext.number, file);
    };
    const addMessage = (message: DescMessage): void => {
      symbol(message.typeName);
      this.#messages.set(message.typeName, message);
      for (const field of message.fields) symbol(`${message.typeName}.${field.name}`);
      for (const oneof of message.oneofs) symbol(`${message.typeName}.${oneof.name}`);
      for (const nested of message.nestedMessages) addMessage(nested);
      for (const nested of message.nestedEnums) addEnum(nested);
      for (const nested of message.nestedExtensions) addExtension(nested);
    };
    if (file.proto.package !== "") symbol(file.proto.package);
    for (const message of file.messages) addMessage(message);
    for (const desc of file.enums) addEnum(desc);
    for (const ext of file.extensions) addExtension(ext);
    for (const service of file.services) {
      symbol(service.typeName);
      for (const method of service.methods) symbol(`${service.typeName}.${method.name}`);
    }
  }

  /** Every file name reflection can answer for. */
  fileNames(): string[] {
    return [...this.#files.keys()];
  }

  file(name: string): DescFile | undefined {
    return this.#files.get(name);
  }

  /** The file that defines a fully-qualified symbol (a leading dot is accepted). */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.#symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  fileContainingExtension(typeName: string, number: number): DescFile | undefined {
    return this.#extensions.get(stripDot(typeName))?.get(number);
  }

  /** The extension numbers of a known message type, or undefined for an unknown type. */
  extensionNumbers(typeName: string): number[] | undefined {
    const name = stripDot(typeName);
    if (!this.#messages.has(name)) return undefined;
    return [...(this.#extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The serialized FileDescriptorProto of the file, then of each of its transitive dependencies, once each. */
  withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const queue: DescFile[] = [file];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (seen.has(next.proto.name)) continue;
      seen.add(next.proto.name);
      out.push(this.#encode(next));
      queue.push(...next.dependencies);
    }
    return out;
  }

  #encode(file: DescFile): Uint8Array {
    let bytes = this.#encoded.get(file.proto.name);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.#encoded.set(file.proto.name, bytes);
    }
    return bytes;
  }
}

function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

/** Answers one reflection request (v1 messages; v1alpha is the same on the wire). */
export function answerReflection(index: DescriptorIndex, request: ServerReflectionRequest): ServerReflectionResponse {
  const base = { validHost: request.host, originalRequest: request };
  const error = (errorCode: number, errorMessage: string): ServerReflectionResponse =>
    create(ResponseV1Schema, { ...base, messageResponse: { case: "errorResponse", value: { errorCode, errorMessage } } });
  const files = (file: DescFile): ServerReflectionResponse =>
    create(ResponseV1Schema, {
      ...base,
      messageResponse: {
        case: "fileDescriptorResponse",
        value: { fileDescriptorProto: index.withDependencies(file) },
      },
    });
  const req = request.messageRequest;
  switch (req.case) {
    case "listServices":
      return create(ResponseV1Schema, {
        ...base,
        messageResponse: {
          case: "listServicesResponse",
          value: { service: index.services.map((name) => ({ name })) },
        },
      });
    case "fileByFilename": {
      const file = index.file(req.value);
      return file ? files(file) : error(NOT_FOUND, `file not found: ${req.value}`);
    }
    case "fileContainingSymbol": {
      const file = index.fileContainingSymbol(req.value);
      return file ? files(file) : error(NOT_FOUND, `symbol not found: ${req.value}`);
    }
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = req.value;
      const file = index.fileContainingExtension(containingType, extensionNumber);
      return file ? files(file) : error(NOT_FOUND, `extension not found: ${containingType} field ${extensionNumber}`);
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(req.value);
      if (numbers === undefined) return error(NOT_FOUND, `type not found: ${req.value}`);
      return create(ResponseV1Schema, {
        ...base,
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: stripDot(req.value), extensionNumber: numbers },
        },
      });
    }
    default:
      return error(INVALID_ARGUMENT, "the request names no known message_request");
  }
}

export function registerReflectionServices(router: ConnectRouter, index: DescriptorIndex): void {
  router.service(ServerReflectionV1, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield answerReflection(index, request);
    },
  });
  router.service(ServerReflectionV1alpha, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield toV1alpha(answerReflection(index, toV1(request)));
    },
  });
}

// v1alpha and v1 are the same messages under two package names: convert through the wire format.
function toV1(request: ServerReflectionRequestV1alpha): ServerReflectionRequest {
  return fromBinary(RequestV1Schema, toBinary(RequestV1alphaSchema, request));
}

function toV1alpha(response: ServerReflectionResponse): ServerReflectionResponseV1alpha {
  return fromBinary(ResponseV1alphaSchema, toBinary(ResponseV1Schema, response));
}
