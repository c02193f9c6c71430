/// `Schemas/openapi.json`, compiled into the server so `GET /openapi.json` serves exactly the committed contract
/// (`Resources/openapi.json` is a link to it).
enum OpenAPIDocument {
    static var bytes: [UInt8] { PackageResources.openapi_json }
}
