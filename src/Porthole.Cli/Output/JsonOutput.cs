using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Porthole.Cli.Output;

/// <summary>Writes API objects to stdout as indented JSON for scripts (<c>--json</c>).</summary>
public static class JsonOutput
{
    /// <summary>Writes <paramref name="value"/> followed by a newline.</summary>
    public static void Write<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        stdout.Write("\n"u8);
        stdout.Flush();
    }
}
