using JobWorker.Client;
using JobWorker.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace OrderApi;

/// <summary>The order routes: one transaction for the order and its job; the job's state through <see cref="IJobClient"/>.</summary>
public static class OrderEndpoints
{
    public static void MapOrders(this IEndpointRouteBuilder app)
    {
        app.MapPost("/orders", PlaceAsync);
        app.MapGet("/orders/{id:guid}", GetAsync);
    }

    /// <summary>
    /// Inserts the order and enqueues its confirmation job in the same transaction. <c>?fail=true</c> throws after both
    /// writes, so both roll back (the app answers 500 and no worker ever sees the job). <c>?wait=true</c> waits for the
    /// job to finish after the commit. An order id that exists already answers 409 Conflict.
    /// </summary>
    private static async Task<IResult> PlaceAsync(
        NewOrder request, bool? fail, bool? wait, NpgsqlDataSource dataSource, IJobClient jobs, IOptions<OrderOptions> options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Customer) || request.Amount <= 0)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["order"] = ["customer is required and amount must be positive"] });
        }

        var id = request.Id ?? Guid.CreateVersion7();
        Order order;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO orders (id, customer, amount) VALUES ($1, $2, $3) RETURNING created_at", connection, transaction)
            {
                Parameters = { new() { Value = id }, new() { Value = request.Customer }, new() { Value = request.Amount } },
            };
            DateTime createdAt;
            try
            {
                createdAt = (DateTime)(await insert.ExecuteScalarAsync(cancellationToken))!;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // A retried request whose order did commit: nothing is enqueued again.
                return Results.Conflict(new { error = $"Order {id} already exists.", location = $"/orders/{id}" });
            }

            order = new Order(id, request.Customer, request.Amount, createdAt);

            // The job's id is the order's: enqueueing it again for the same order adds nothing.
            await jobs.SubmitAsync(options.Value.ConfirmationJobType, new OrderConfirmation(id, request.Customer, request.Amount), transaction,
                new JobSubmitOptions { JobId = id }, cancellationToken);

            if (fail == true)
            {
                throw new InvalidOperationException($"Order {id} failed on purpose (?fail=true) after it and its job were written: both roll back.");
            }

            await transaction.CommitAsync(cancellationToken);
        }

        // The order is committed: whatever the job's state, the answer is 201. A state no worker reported in time is unknown.
        JobStatus? job;
        try
        {
            job = wait == true
                ? await jobs.WaitAsync(id, options.Value.WaitTimeout, cancellationToken)
                : await jobs.GetStatusAsync(id, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or RequestTimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            job = null;
        }

        return Results.Created($"/orders/{id}", OrderView.Of(order, job));
    }

    private static async Task<IResult> GetAsync(Guid id, NpgsqlDataSource dataSource, IJobClient jobs, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand("SELECT customer, amount, created_at FROM orders WHERE id = $1");
        select.Parameters.Add(new() { Value = id });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return Results.NotFound();
        }

        var order = new Order(id, reader.GetString(0), reader.GetDecimal(1), reader.GetDateTime(2));
        JobStatus? job;
        try
        {
            job = await jobs.GetStatusAsync(id, cancellationToken);
        }
        catch (Exception e) when (e is RequestTimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            job = null;
        }

        return Results.Ok(OrderView.Of(order, job));
    }
}
