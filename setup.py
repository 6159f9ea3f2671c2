"Packaging: turns the metadata in settings.ini and the version in the package into setuptools arguments."
import re
from configparser import ConfigParser
from pathlib import Path
from setuptools import setup, find_packages

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
lib = cfg['lib_path']
version = re.search(r'^__version__\s*=\s*[\'"]([^\'"]+)', Path(lib, '__init__.py').read_text(), re.M)[1]

setup(
    version=version, description=cfg['description'], license=cfg['license'],
    long_description=Path('README.md').read_text(encoding='utf-8'), long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'], keywords=cfg['keywords'].split(),
    url=cfg['git_url'], project_urls={'Repository': cfg['git_url'], 'Documentation': cfg['doc_url']},
    classifiers=['Programming Language :: Python :: 3 :: Only', 'Environment :: Web Environment',
                 'License :: OSI Approved :: Apache Software License'],
    packages=find_packages(include=[lib, f'{lib}.*']),
    package_data={lib: ['static/*']},
    install_requires=cfg['requirements'].split(), extras_require={'dev': cfg['dev_requirements'].split(),
                                                   'postgres': cfg['postgres_requirements'].split()},
    entry_points={'nbdev': [f'{lib}={lib}._modidx:d']},
)
