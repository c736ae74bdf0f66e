using System.Text.Json;
using System.Text.Json.Serialization;

namespace Porthole.Cli.Configuration;

/// <summary>Source-generated serializer of the config file (camelCase, indented, nulls omitted).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CliConfig))]
public sealed partial class CliConfigJsonContext : JsonSerializerContext;
