using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Porthole.Protocol.Api;

namespace Porthole.Server.Tests.Support;

/// <summary>Terse HTTP calls for tests: send JSON, check the status, read JSON.</summary>
public static class Api
{
    public static async Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.Default });
        }

        return await client.SendAsync(request);
    }

    /// <summary>Sends and asserts the status; returns the body text.</summary>
    public static async Task<string> ExpectAsync(this HttpClient client, HttpStatusCode status, HttpMethod method, string path, object? body = null)
    {
        using var response = await client.SendAsync(method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{method} {path}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        return text;
    }

    public static T Read<T>(string json) => (T)JsonSerializer.Deserialize(json, typeof(T), ApiJsonContext.Default)!;
}
