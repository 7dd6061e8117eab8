"Run fer_nbdev's console scripts as users do, for the end-to-end tests."
import configparser, os, shutil, subprocess, sys
from pathlib import Path

def _entry_points() -> dict:
    "{script: 'module:function'} from settings.ini's console_scripts."
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(Path(__file__).parents[1]/'settings.ini', encoding='utf-8')
    return dict(l.split('=', 1) for l in cfg['DEFAULT']['console_scripts'].split())

def script_cmd(name:str) -> list:
    "The installed console script `name`; else the same entry point run by this python (as pip's wrapper does)."
    exe = shutil.which(name)
    if exe: return [exe]
    mod, fn = _entry_points()[name].split(':')
    return [sys.executable, '-c', f'import sys; from {mod} import {fn}; sys.exit({fn}())']

def run_script(name:str, *args, env:dict=None, cwd=None, timeout:int=300) -> subprocess.CompletedProcess:
    "Run console script `name` with `args` (2 threads, extra `env`), capturing its output as text."
    return subprocess.run(script_cmd(name) + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, OMP_NUM_THREADS='2', **(env or {})), timeout=timeout)
