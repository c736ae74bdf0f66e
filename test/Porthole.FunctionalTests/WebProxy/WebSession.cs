using System.Text.Json;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>A web session as <c>POST /api/v1/web-sessions</c> answers it.</summary>
public sealed record WebSession(string Id, string Url, JsonElement Raw)
{
    /// <summary>The session origin, <c>https://ID.localhost:PORT</c>.</summary>
    public Uri Origin => new(new Uri(Url).GetLeftPart(UriPartial.Authority));

    public Uri At(string pathAndQuery) => new(Origin, pathAndQuery);

    public static WebSession Parse(string json)
    {
        var root = JsonDocument.Parse(json).RootElement.Clone();
        var url = root.GetProperty("url").GetString()!;
        string? id = null;
        foreach (var name in new[] { "id", "sessionId", "webSessionId" })
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
            {
                id = value.GetString();
                break;
            }
        }

        return new WebSession(id ?? new Uri(url).Host.Split('.')[0], url, root);
    }
}
