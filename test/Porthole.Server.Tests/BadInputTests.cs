using System.Net;
using System.Text;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>
/// Every write route, fed malformed or mistyped JSON, answers a 4xx problem and never a 500. The routes come from
/// the endpoint data source, so a new route is covered the day it is added.
/// </summary>
public sealed class BadInputTests(Scenario scenario) : IClassFixture<Scenario>
{
    public static TheoryData<string> Bodies => new()
    {
        "{",
        "[]",
        "null",
        "{\"name\": 42, \"port\": \"twenty-two\", \"host\": [], \"kind\": {}, \"scope\": false}",
        "{\"name\": \"" + new string('x', 100_000) + "\"}",
        "{\"name\": \"\\u0000\\ud800\", \"username\": \"a\\nb\", \"path\": \"../..\"}",
    };

    [Fact]
    public async Task MistypedField_IsNamedInTheProblem()
    {
        using var admin = scenario.As("admin");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/devices/d-plant2/endpoints")
        {
            Content = new StringContent("{\"name\":\"x\",\"host\":\"h\",\"port\":\"twenty\",\"protocol\":\"ssh\"}", Encoding.UTF8, "application/json"),
        };

        using var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("$.port", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task WriteRoutes_WithBadBodies_AnswerAProblemNeverA500(string body)
    {
        using var admin = scenario.As("admin");
        string[] writes = ["POST", "PUT", "PATCH", "DELETE"];
        var failures = new List<string>();

        foreach (var route in RouteCatalogTests.Routes(scenario.Server.App.Services).Select(r => r.Route).Distinct().Where(r => writes.Contains(r.Split(' ')[0])))
        {
            var (method, pattern) = (route.Split(' ')[0], route.Split(' ')[1]);
            if (pattern == "/api/v1/auth/logout")
            {
                continue; // would end the scenario's admin token; it takes no body anyway
            }

            // Route values that exist, so the body is what gets judged.
            var path = pattern.Replace("{device}", "d-plant2", StringComparison.Ordinal).Replace("{endpoint}", "ssh", StringComparison.Ordinal)
                .Replace("{user}", "operator", StringComparison.Ordinal).Replace("{role}", "Technician", StringComparison.Ordinal)
                .Replace("{grant}", "nope", StringComparison.Ordinal).Replace("{token}", "nope", StringComparison.Ordinal)
                .Replace("{sessionId}", "nope", StringComparison.Ordinal).Replace("{**path}", "no/such/group", StringComparison.Ordinal);
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await admin.SendAsync(request);
            var status = (int)response.StatusCode;
            if (status >= 500)
            {
                failures.Add($"{route}: {status} {await response.Content.ReadAsStringAsync()}");
            }
            else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{route}: {status} without problem details ({response.Content.Headers.ContentType})");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
