"""In-process figures for the HTTP endpoints and the paging comparison (no HTTP, no wrk).

    python -m bench.inproc      (after bench.seed)

For each endpoint of results/endpoints.tsv: SQL statements per request and the median time of a
GET through django.test.Client. Then, for the big and the small user, the dashboard's keyset
page query next to what a user would pick instead, Django's Paginator (COUNT + OFFSET), at the
top of the list and deep in it. Writes results/inproc.json, results/queries.sql.txt and
results/explain.txt (SQLite query plans of the notification queries).
"""

from __future__ import annotations

from .common import RESULTS, capture_sql, count_queries, load, median_ms, save, setup_django

PAGE_CALLS = {"keyset": 20, "paginator": 3, "offset": 3}  # calls per timed rep (OFFSET deep is slow)


def endpoint_figures(sql_log: list[str], plans: dict) -> dict:
    from django.test import Client

    out = {}
    for line in (RESULTS / "endpoints.tsv").read_text().splitlines():
        name, cookie, path, expect = line.split("\t")
        client = Client()
        client.cookies.load(cookie)
        client.get(path)  # warm
        with capture_sql() as captured:
            response = client.get(path)
        body = response.content.decode()
        if response.status_code != 200 or expect not in body:
            raise SystemExit(f"{name}: GET {path} -> {response.status_code}, {expect!r} not in the response")
        out[name] = {
            "path": path,
            "queries": len(captured),
            "bytes": len(response.content),
            "inprocess_ms": median_ms(lambda c=client, p=path: c.get(p), reps=5, calls=20),
        }
        sql_log.append(f"### {name}  GET {path}  -> {len(captured)} queries")
        sql_log += [f"{sql}  -- params {params!r}" for sql, params in captured] + [""]
        for sql, params in captured:
            if "inbox_notification" in sql:
                plans.setdefault((sql, params), name)
        print(f"  {name:<14} {out[name]['queries']} queries  {out[name]['inprocess_ms']:7.2f} ms  {path}")
    return out


def paging_figures(plans: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.paginator import Paginator

    from inbox.conf import inbox_setting
    from inbox.models import Notification, parse_cursor
    from inbox.web.views import inbox_page

    seed = load("seed")
    size = inbox_setting("PAGE_SIZE")
    out = {}
    for name, depth in seed["deep_rows"].items():
        user = get_user_model().objects.get(username=name)
        rows = Notification.objects.for_user(user).visible().select_related("message").newest_first()
        cursor = parse_cursor(seed["cursors"][name])
        deep_page = depth // size + 1  # the same 20 rows as the keyset page after the cursor
        expected = [n.pk for n in inbox_page(user, "all", cursor)["items"]]
        assert [n.pk for n in Paginator(rows, size).page(deep_page).object_list] == expected
        assert [n.pk for n in rows[depth : depth + size]] == expected
        cases = {
            "keyset_top": ("keyset", lambda u=user: inbox_page(u, "all")["items"]),
            "keyset_deep": ("keyset", lambda u=user, c=cursor: inbox_page(u, "all", c)["items"]),
            "paginator_top": ("paginator", lambda r=rows: list(Paginator(r, size).page(1).object_list)),
            "paginator_deep": (
                "paginator",
                lambda r=rows, p=deep_page: list(Paginator(r, size).page(p).object_list),
            ),
            "offset_deep": ("offset", lambda r=rows, d=depth: list(r[d : d + size])),
        }
        out[name] = {"rows": seed["list_sizes"][name], "depth": depth, "deep_page": deep_page}
        for case, (kind, func) in cases.items():
            with count_queries() as counts:
                func()
            ms = median_ms(func, reps=5, calls=PAGE_CALLS[kind])
            out[name][case] = {"ms": ms, "queries": sum(counts.values())}
            print(f"  paging {name:<6}{case:<16}{ms:9.2f} ms  {sum(counts.values())} queries")
        plans.setdefault(rows[depth : depth + size].query.sql_with_params(), f"{name} OFFSET {depth}")
    return out


def badge_breakdown() -> dict:
    """Where the badge's time goes, in-process: the request, its parts, and the same requests
    through Django's ASGI handler (AsyncClient: the sync/async hops the server pays too)."""
    import asyncio
    import statistics
    import time

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test import AsyncClient, Client, RequestFactory

    from inbox.badge import badge_for

    cookie = (RESULTS / "endpoints.tsv").read_text().split("\t")[1]  # the badge's (reader's)
    user = get_user_model().objects.get(username="reader")
    client = Client()
    client.cookies.load(cookie)
    async_client = AsyncClient()
    async_client.cookies.load(cookie)

    def asgi_ms(path: str, reps: int = 5, calls: int = 20) -> float:
        async def batch() -> float:
            started = time.perf_counter()
            for _ in range(calls):
                await async_client.get(path)
            return (time.perf_counter() - started) / calls

        asyncio.run(batch())  # warm
        return 1000 * statistics.median(asyncio.run(batch()) for _ in range(reps))

    with capture_sql() as statements:
        badge = badge_for(user)
    (count_sql, count_params), cursor = statements[-1], connection.cursor()
    request = RequestFactory().get("/inbox/badge/")
    request.user, request.htmx = user, False
    out = {
        "trivial_request": median_ms(lambda: client.get("/bench/trivial/")),
        "badge_request": median_ms(lambda: client.get("/inbox/badge/")),
        "badge_for": median_ms(lambda: badge_for(user), calls=100),
        "count_raw_sql": median_ms(lambda: cursor.execute(count_sql, count_params).fetchone(), calls=100),
        "render_partial": median_ms(
            lambda: render_to_string("inbox/bell.html#badge", {"inbox_badge": badge}, request), calls=100
        ),
        "trivial_asgi": asgi_ms("/bench/trivial/"),
        "badge_asgi": asgi_ms("/inbox/badge/"),
    }
    print("  badge breakdown: " + ", ".join(f"{k} {v:.2f} ms" for k, v in out.items()))
    return out


def item_render() -> dict:
    """One dashboard item: rendered through its template partial, and from inbox.web.items's cache
    (per item of a page, the cache warm: what a page view pays)."""
    from django.contrib.auth import get_user_model

    from inbox.web import items
    from inbox.web.views import inbox_page

    page = inbox_page(get_user_model().objects.get(username="small"), "all")["items"]
    token = "t" * 64
    out = {
        "page": len(page),
        "render_ms": median_ms(lambda: items.render_item(page[0], "all", token), calls=50),
        "cached_ms": median_ms(lambda: items.items_html(page, "all", token), calls=50) / len(page),
    }
    print(f"  item: rendered {out['render_ms']:.3f} ms, from the cache {1000 * out['cached_ms']:.1f} us")
    return out


def explain(plans: dict) -> str:
    from django.db import connection

    text, explain = [], "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    for (sql, params), where in plans.items():
        with connection.cursor() as cursor:
            cursor.execute(explain + sql, params)
            plan = [row[-1] for row in cursor.fetchall()]
        text.append(f"### {where}\n{sql}\n  -> " + "\n  -> ".join(plan) + "\n")
    return "\n".join(text)


def main() -> None:
    setup_django()
    sql_log: list[str] = []
    plans: dict = {}
    data = {
        "endpoints": endpoint_figures(sql_log, plans),
        "paging": paging_figures(plans),
        "badge_breakdown": badge_breakdown(),
        "item_render": item_render(),
    }
    (RESULTS / "queries.sql.txt").write_text("\n".join(sql_log))
    (RESULTS / "explain.txt").write_text(explain(plans))
    save("inproc", data)


if __name__ == "__main__":
    main()
