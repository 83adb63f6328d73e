"""How long `shegong serve` takes until it answers (issue 11, point 12; timing goals live in bench/, not in
tests): the first start (static files collected and compressed), a restart with nothing changed (goal:
≤ 3 s), and a restart after a CSS file was touched (collected again).

    python bench/serve_start.py                  # a throw-away var dir under /tmp, port 8765
    python bench/serve_start.py --port 8027 --var-dir /tmp/myvar --skip-first

Each start is `shegong serve` in a child process, timed from its launch until GET /login/ answers 200,
then stopped. "Touching" sets a later modification time on shegong/web/static/shegong/app.css (its
content is not changed) and puts the old time back afterwards, so other checkouts' collected files stay
current. The seconds depend on the machine's load: report the load average with them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHEGONG = Path(sys.executable).with_name("shegong")
CSS = ROOT / "shegong" / "web" / "static" / "shegong" / "app.css"


def start(port: int, env: dict[str, str], timeout: float) -> float:
    """Seconds from launching `shegong serve` until /login/ answers 200 (what it printed goes to stdout)."""
    began = time.perf_counter()
    proc = subprocess.Popen([str(SHEGONG), "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while time.perf_counter() - began < timeout:
            if proc.poll() is not None:
                raise SystemExit(f"shegong serve 已退出:\n{proc.stdout.read() if proc.stdout else ''}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - began
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise SystemExit(f"{timeout:.0f} 秒内没有启动")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        print(out.strip(), "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--var-dir", default="", help="默认:/tmp 下新建的临时目录")
    parser.add_argument("--skip-first", action="store_true", help="不测首次启动(var 目录已收集过静态文件)")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    var_dir = args.var_dir or tempfile.mkdtemp(prefix="shegong-bench-start-")
    env = {**os.environ, "SHEGONG_VAR_DIR": var_dir}
    subprocess.run([str(SHEGONG), "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    results = []
    if not args.skip_first:
        results.append(("首次启动(收集并压缩静态文件)", start(args.port, env, args.timeout)))
    results.append(("重启,没有变化", start(args.port, env, args.timeout)))
    stat = CSS.stat()
    os.utime(CSS, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    try:
        results.append(("重启,app.css 被修改(touch)", start(args.port, env, args.timeout)))
    finally:
        os.utime(CSS, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    print(f"var 目录:{var_dir}   负载:{os.getloadavg()[0]:.1f}(1 分钟平均)")
    for label, seconds in results:
        print(f"  {label:<28} {seconds:7.2f} 秒")


if __name__ == "__main__":
    main()
